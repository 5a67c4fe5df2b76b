"""A small Choppa pipeline. Open it in an editor with choppa-lsp and run the functions from
code actions (or run `npm run demo` from the repository root to watch an editor do it)."""
import json

from choppa import Choppa

dutch = Choppa(
    artifact_dir="/Workspace/Shared/choppa-demo",
    result_size_max=64 * 1024,
)


@dutch.remote
def add(a, b):
    return a + b


@dutch.remote
def get_stuff(n=200_000):
    """Large enough to cross result_size_max: it comes back as an ArtifactRef."""
    return [i * i for i in range(n)]


@dutch.remote
def analyze_stuff(data):
    print(f"analysing {len(data)} rows")
    return {"count": len(data), "max": max(data)}


@dutch.artifact
def squares_table(rows=5):
    return [{"row": i, "square": i * i} for i in range(rows)]


@dutch.remote
def ratio(a, b):
    print(f"dividing {a} by {b}")
    return a / b


@dutch.remote
def to_json(record):
    return json.dumps(record)


if __name__ == "__main__":
    print(add(1, 2))
    data = get_stuff()
    print(analyze_stuff(data))
    print(ratio(1, 0))
    print(to_json({"a": 1}))
