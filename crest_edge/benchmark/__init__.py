"""The benchmark behind `crest-edge bench`: latency, throughput, memory and size of every artifact format
side by side.

run.py        run_bench(): the library entry point; returns the report
artifacts.py  the plan (an unavailable backend fails up front), the source checkpoint (given or
              synthesized) and its converted artifacts, cached
worker.py     runs ONE configuration in its own process (honest peak RSS and load time)
report.py     machine description, markdown, JSON and the latency-vs-size plot
peers.py      the plain ONNX Runtime int8 peer (what a user does by hand)
"""

from .run import run_bench

__all__ = ["run_bench"]
