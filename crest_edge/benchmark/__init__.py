"""`crest-edge bench`: latency, throughput, memory and size of every artifact format side by side.

command.py  the CLI: parses, then converts, drives one worker per configuration and reports
artifacts.py  the plan (an unavailable backend fails up front), the source checkpoint (given or
            synthesized) and its converted artifacts, cached
worker.py   runs ONE configuration in its own process (honest peak RSS and load time)
report.py   machine description, markdown, JSON and the latency-vs-size plot
"""
