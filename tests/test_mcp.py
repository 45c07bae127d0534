"""For agents and scripts: /models lists what the server offers, and `app.py --mcp` serves
the API as MCP tools, each described by its docstring."""

from __future__ import annotations

import asyncio

import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import MNIST_DIR
from tests.harness.server import MODEL, launched_app


def test_models_lists_each_model_with_its_facts_best_first(client):
    models = client.predict(api_name="/models")
    by_name = {m["name"]: m for m in models}
    quick = by_name[MODEL]
    assert quick["recipe"] == "speedrun" and quick["architecture"] == "speednet"
    assert quick["parameters"] > 100_000 and quick["file_bytes"] > 100_000
    assert 0.9 < quick["test_accuracy"] < 1
    assert (
        quick["label"] == f"{MODEL} · {quick['test_accuracy']:.2%} · {quick['parameters'] // 1000}k"
    )
    assert "not a readable" in by_name["broken"]["error"]  # listed, with what is wrong
    assert models[-1]["name"] == "broken"


async def list_tools(url: str) -> dict[str, str]:
    async with (
        streamable_http_client(url + "gradio_api/mcp/") as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        tools = (await session.list_tools()).tools
    return {tool.name: tool.description for tool in tools}


@pytest.mark.slow
def test_mcp_serves_predict_explain_mistakes_and_models_with_their_docstrings(
    app_weights, tmp_path
):
    with launched_app(app_weights, MNIST_DIR, tmp_path / "app.log", {"MNIST_APP_MCP": "1"}) as url:
        tools = asyncio.run(list_tools(url))
    for name, described in [
        ("predict", "Read a handwritten digit drawn in a Sketchpad"),
        ("predict_image", "Read a handwritten digit in an image file"),
        ("explain_drawing", "Explain why a model reads a drawing"),
        ("mistakes", "The MNIST test images a model gets wrong"),
        ("models", "The models this server offers"),
        ("inspect", "One MNIST test image through a model's eyes"),
        ("compare", "Training curves of several models; where two of them disagree"),
        ("export", "A model as an ONNX file"),
        ("rename_model", "Rename a model you trained"),
        ("delete_model", "Delete a model you trained"),
    ]:
        assert described in tools[name], (name, tools.get(name))
    assert all(tools.values()), "every tool says what it does"
