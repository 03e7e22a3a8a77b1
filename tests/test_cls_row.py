"""The last layer computed for <s>'s row only (convert/cls_row.py): exact in float, and the ONNX graph's
last FFN multiplies one row per text."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from crest_edge.convert.cls_row import cls_row_last_layer  # noqa: E402


def test_cls_row_last_layer_is_exact_with_padding(demo_checkpoint):
    model = transformers.XLMRobertaForSequenceClassification.from_pretrained(
        str(demo_checkpoint), local_files_only=True, attn_implementation="eager"
    ).eval()
    rng = np.random.default_rng(0)
    ids = torch.from_numpy(rng.integers(3, 1000, size=(3, 29)))
    ids[:, 0], ids[:, -1] = 0, 2
    mask = torch.ones_like(ids)
    ids[1, 12:], mask[1, 12:], ids[1, 11] = 1, 0, 2  # a padded row: padding must stay unattended
    with torch.inference_mode():
        before = model(input_ids=ids, attention_mask=mask).logits
        cls_row_last_layer(model)
        after = model(input_ids=ids, attention_mask=mask).logits
    torch.testing.assert_close(after, before, atol=1e-5, rtol=0)


def test_onnx_last_ffn_has_one_row(build_artifact):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")

    from crest_edge.formats.onnx import MODEL_FILE

    model = onnx.load(str(build_artifact("onnx", "fp32") / MODEL_FILE))
    ffn = [n.output[0] for n in model.graph.node if n.name.endswith("/intermediate/dense/MatMul")]
    model.graph.output.extend(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None) for name in ffn)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    ids = np.array([[0, 10, 11, 12, 13, 14, 15, 16, 2]] * 2)
    outputs = session.run(ffn, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
    assert [o.shape[1] for o in outputs] == [9] * (len(ffn) - 1) + [1]  # the last: one row per text
