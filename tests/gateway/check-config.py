"""Checks gateway/litellm.yaml and gateway/litellm-mock.yaml with LiteLLM itself, offline.

Both files are loaded the way the proxy loads them at start (ProxyConfig.load_config builds the router), and
each must serve the model ids the runtime sends by default (read from src/router/matrix.rs). The real config is
never run against a provider here (no internet); instead a copy of it whose providers' api_base points at a
capture server on 127.0.0.1 answers one call per role, which shows the request LiteLLM would send: the endpoint,
the model, the key from the environment (each provider's own), and the thinking budget.

Usage: target/gateway-venv/bin/python tests/gateway/check-config.py   (tests/gateway/run.mjs runs it)
"""

import asyncio
import http.server
import json
import os
import pathlib
import re
import sys
import tempfile
import threading

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]

# Placeholders, one per provider, so a key sent to the wrong provider shows.
os.environ.update(
    {
        "GEMINI_API_KEY": "placeholder-gemini",
        "ANTHROPIC_API_KEY": "placeholder-anthropic",
        "LITELLM_MASTER_KEY": "sk-placeholder-for-the-config-check",
        # The price list shipped in the package, not a download at start.
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
)

from litellm.proxy.proxy_server import ProxyConfig  # noqa: E402  (after the environment is set)

failures = 0


def check(ok: bool, what: str) -> None:
    global failures
    print(f"{'ok  ' if ok else 'FAIL'} {what}", flush=True)
    failures += 0 if ok else 1


def runtime_model_ids() -> dict[str, str]:
    """flash/pro/claude -> the model id the runtime's design table sends."""
    source = (ROOT / "src/router/matrix.rs").read_text()
    found = dict(re.findall(r'spec\(ModelKey::(Flash|Pro|Claude), "[^"]*", "([^"]+)"', source))
    if set(found) != {"Flash", "Pro", "Claude"}:
        sys.exit(f"could not read the model table from src/router/matrix.rs (found {found})")
    return {k.lower(): v for k, v in found.items()}


async def load(path: pathlib.Path):
    router, models, _ = await ProxyConfig().load_config(router=None, config_file_path=str(path))
    return router, {m["model_name"]: m["litellm_params"] for m in models}


class Capture(http.server.BaseHTTPRequestHandler):
    """Records each request and answers as Gemini or Anthropic would, with a short line and its usage."""

    seen: list[dict] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        headers = {k.lower(): v for k, v in self.headers.items()}
        Capture.seen.append({"path": self.path, "headers": headers, "body": body})
        if "generateContent" in self.path:
            answer = {
                "candidates": [{"content": {"role": "model", "parts": [{"text": "Aye."}]}, "finishReason": "STOP"}],
                "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 2, "totalTokenCount": 14},
            }
        else:
            answer = {
                "id": "msg_check", "type": "message", "role": "assistant", "model": body.get("model"),
                "content": [{"type": "text", "text": "Aye."}], "stop_reason": "end_turn",
                "usage": {"input_tokens": 12, "output_tokens": 2},
            }
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


async def check_requests(ids: dict[str, str]) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    config = yaml.safe_load((ROOT / "gateway/litellm.yaml").read_text())
    for m in config["model_list"]:
        m["litellm_params"]["api_base"] = base
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump(config, f)
    try:
        router, _ = await load(pathlib.Path(f.name))
        expected = {
            "flash": ("/models/gemini-2.5-flash:generateContent", "x-goog-api-key", "placeholder-gemini"),
            "pro": ("/models/gemini-2.5-pro:generateContent", "x-goog-api-key", "placeholder-gemini"),
            "claude": ("/v1/messages", "x-api-key", "placeholder-anthropic"),
        }
        for role, (path, key_header, key) in expected.items():
            Capture.seen.clear()
            # What the runtime sends (src/router/providers/openai.rs), by the alias and by the runtime's id.
            for name in (role, ids[role]):
                reply = await router.acompletion(
                    model=name,
                    messages=[{"role": "system", "content": "You are Bram."}, {"role": "user", "content": "Hi"}],
                    max_tokens=80,
                    temperature=0.8,
                )
                check(
                    reply.choices[0].message.content == "Aye." and reply.usage.completion_tokens == 2,
                    f"litellm.yaml: {name!r} answers with the provider's text and usage",
                )
            sent = Capture.seen[-1] if Capture.seen else {"path": None, "headers": {}, "body": {}}
            check(len(Capture.seen) == 2 and sent["path"] == path, f"litellm.yaml: {role} calls {sent['path']}")
            check(sent["headers"].get(key_header) == key, f"litellm.yaml: {role} sends {key_header} from the environment")
            if role == "claude":
                check(sent["body"].get("model") == "claude-sonnet-4-6", f"litellm.yaml: claude is {sent['body'].get('model')}")
            else:
                budget = sent["body"].get("generationConfig", {}).get("thinkingConfig", {}).get("thinkingBudget")
                check(
                    budget == (0 if role == "flash" else 128),
                    f"litellm.yaml: {role}'s thinking budget is {budget} (it counts against max_tokens)",
                )
    finally:
        os.unlink(f.name)
        server.shutdown()


async def main() -> int:
    ids = runtime_model_ids()

    router, real = await load(ROOT / "gateway/litellm.yaml")
    for role, model_id in ids.items():
        params = real.get(model_id, {})
        check(model_id in real, f"litellm.yaml serves the runtime's {role} id {model_id!r} with {params.get('model')}")
        alias = (router.model_group_alias or {}).get(role)
        check(alias == model_id, f"litellm.yaml: the alias {role!r} is {alias!r}")
    providers = {p.get("model", "").split("/")[0] for p in real.values()}
    check(providers == {"gemini", "anthropic"}, f"litellm.yaml: real providers only ({sorted(providers)})")
    await check_requests(ids)

    _, mock = await load(ROOT / "gateway/litellm-mock.yaml")
    for model_id in ids.values():
        check(model_id in mock, f"litellm-mock.yaml serves {model_id!r}")
    expected = {
        "mock-costed": lambda p: isinstance(p.get("mock_response"), str) and not p["mock_response"].startswith("litellm."),
        "mock-rate-limited": lambda p: p.get("mock_response") == "litellm.RateLimitError",
        "mock-failing": lambda p: p.get("mock_response") == "litellm.InternalServerError",
        "mock-slow": lambda p: p.get("mock_delay", 0) > 0,
    }
    for name, ok in expected.items():
        check(ok(mock.get(name, {})), f"litellm-mock.yaml: {name} ({mock.get(name, {}).get('mock_response')!r})")
    check(
        all(p.get("api_base", "").startswith("http://127.0.0.1:") for p in mock.values()),
        "litellm-mock.yaml: every model's api_base is on loopback",
    )

    print(f"gateway config: {'all checks passed' if failures == 0 else f'{failures} check(s) failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
