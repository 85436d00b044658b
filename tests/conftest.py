import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def pytest_configure(config):
    config.addinivalue_line("markers", "integration: needs the real llama-server and model (built by `make setup`)")
    config.addinivalue_line("markers", "vllm: starts vLLM on this CPU (make test-vllm); not part of `make test`")
