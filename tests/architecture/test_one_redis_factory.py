"""One Redis connection factory: outside `app/redis_client.py`, no module of the platform
makes a redis-py client or pool itself (``redis.Redis(...)``, ``StrictRedis``, ``from_url``,
``Sentinel(...)``, ...); each asks the factory, so a ``redis+sentinel://`` or ``rediss://``
URL works everywhere at once. The tests, benchmarks and development tools may inspect Redis
directly."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FACTORY = ROOT / "app" / "redis_client.py"
PACKAGES = ("app", "workers", "tasks", "agent")
# What makes a client or a connection pool.
MAKERS = {
    "Redis",
    "StrictRedis",
    "RedisCluster",
    "Sentinel",
    "ConnectionPool",
    "BlockingConnectionPool",
    "SentinelConnectionPool",
    "from_url",
    "from_pool",
}


def _platform_modules() -> list[Path]:
    modules = sorted(ROOT.glob("*.py"))
    for package in PACKAGES:
        modules += sorted((ROOT / package).rglob("*.py"))
    return [path for path in modules if path != FACTORY]


def _called_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def offenders(path: Path, root: Path = ROOT) -> list[str]:
    """``path:line: maker`` for each call that makes a client or pool, in source order."""
    tree = ast.parse(path.read_text(), filename=str(path))
    calls = sorted(
        (node for node in ast.walk(tree) if isinstance(node, ast.Call)),
        key=lambda node: (node.lineno, node.col_offset),
    )
    return [
        f"{path.relative_to(root)}:{node.lineno}: {_called_name(node)}"
        for node in calls
        if _called_name(node) in MAKERS
    ]


def test_only_the_factory_makes_redis_clients() -> None:
    found = [line for path in _platform_modules() for line in offenders(path)]
    assert found == []


def test_the_factory_is_where_clients_are_made() -> None:
    assert any(line.endswith(("Redis", "master_for", "Sentinel")) for line in offenders(FACTORY))


def test_the_check_catches_a_module_that_opens_redis_itself(tmp_path: Path) -> None:
    module = tmp_path / "pkg" / "cache_of_its_own.py"
    module.parent.mkdir()
    module.write_text(
        "import redis\n"
        "from redis import StrictRedis\n"
        "client = redis.Redis.from_url('redis://127.0.0.1:6379/0')\n"
        "other = StrictRedis(port=6380)\n"
        "pooled = redis.Redis(connection_pool=redis.ConnectionPool())\n"
    )
    assert offenders(module, tmp_path) == [
        "pkg/cache_of_its_own.py:3: from_url",
        "pkg/cache_of_its_own.py:4: StrictRedis",
        "pkg/cache_of_its_own.py:5: Redis",
        "pkg/cache_of_its_own.py:5: ConnectionPool",
    ]
