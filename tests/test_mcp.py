"""For agents and scripts: /models lists what the server offers, and `app.py --mcp` serves
the API as MCP tools, each described by its docstring."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re

import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from mnist_app.core.paths import PROJECT_ROOT
from tests.conftest import MNIST_DIR
from tests.harness.server import MODEL, launched_app
from tests.harness.sketches import pen_drawing


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
    mcp_section = (PROJECT_ROOT / "docs" / "api.md").read_text().split("## For agents (MCP)")[1]
    tool_list = mcp_section.split("tools:")[1].split("They keep")[0]
    documented = set(re.findall(r"`([a-z_]+)`", tool_list))
    assert documented == set(tools), "docs/api.md lists exactly the tools served"


@contextlib.asynccontextmanager
async def mcp_session(url: str, cookies=None):
    """A real MCP client session (its own mcp-session-id); `answer(tool, arguments)`
    gives a tool's answer as text."""
    async with (
        httpx.AsyncClient(cookies=cookies, timeout=120) as http,
        streamable_http_client(url + "gradio_api/mcp/", http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()

        async def answer(tool: str, arguments: dict) -> str:
            result = await session.call_tool(tool, arguments)
            return " ".join(getattr(part, "text", "") for part in result.content)

        yield answer


def drawing_data_url(tmp_path) -> str:
    png, _ = pen_drawing(0, tmp_path / "pen.png")
    return "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode()


async def two_agents(url: str, drawing: str) -> dict[str, str]:
    keep = {"image": drawing, "digit": "7", "name": "agent", "model_name": MODEL}
    mine, no_token = {"name": "agent", "token": "a's secret"}, {"name": "agent", "token": ""}
    async with mcp_session(url) as a, mcp_session(url) as b:
        return {
            "kept without a token": await a("collect", {**keep, "token": ""}),
            "kept": await a("collect", {**keep, "token": "a's secret"}),
            "a sees": await a("personal_set", mine),
            "b sees": await b("personal_set", no_token),
            "b deletes": await b("delete_personal_set", no_token),
            "b guesses": await b("delete_personal_set", {**no_token, "token": "guess"}),
            "a still sees": await a("personal_set", mine),
        }


@pytest.mark.slow
def test_through_mcp_drawings_are_owned_by_a_token_not_the_shared_session(app_weights, tmp_path):
    """Gradio runs every MCP client's tools in one session of its own: that session made
    each agent the owner of every other agent's drawings and models."""
    with launched_app(app_weights, MNIST_DIR, tmp_path / "app.log", {"MNIST_APP_MCP": "1"}) as url:
        answers = asyncio.run(two_agents(url, drawing_data_url(tmp_path)))
    assert "pass a token" in answers["kept without a token"], answers
    assert "Kept as a 7" in answers["kept"], answers
    assert "'digit': 7" in answers["a sees"] and "'digit': 7" in answers["a still sees"], answers
    assert "'digit': 7" not in answers["b sees"], answers
    assert "Deleted" not in answers["b deletes"] + answers["b guesses"], answers


async def models_through_mcp(url: str, cookies) -> str:
    async with mcp_session(url, cookies) as agent:
        return await agent("models", {})


@pytest.mark.slow
def test_with_a_login_mcp_needs_it_and_works_for_a_logged_in_agent(app_weights, tmp_path):
    env = {"MNIST_APP_MCP": "1", "MNIST_APP_USERNAME": "ada", "MNIST_APP_PASSWORD": "s3cret-pw"}
    with launched_app(app_weights, MNIST_DIR, tmp_path / "app.log", env) as url:
        assert httpx.post(url + "gradio_api/mcp/", json={}).status_code == 401
        login = httpx.post(url + "login", data={"username": "ada", "password": "s3cret-pw"})
        answer = asyncio.run(models_through_mcp(url, login.cookies))
    assert MODEL in answer and "test_accuracy" in answer, answer
