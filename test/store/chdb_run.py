"""Runs a plan of SQL steps on an embedded ClickHouse (chdb) and prints what the named steps return.

Usage: python3 chdb_run.py PLAN_JSON

The plan is {"steps": [{"sql": str, "data": str?, "name": str?}, ...]}. A step with `data`
appends that file's contents to its SQL, as the rows of an `INSERT ... FORMAT JSONEachRow`. A
step with `name` has its rows returned under that name; if it is also `optional`, an error is
returned under that name instead of stopping the plan. Steps run in order, in one session kept
in a temporary folder beside the plan.

Prints one JSON document: {"results": {name: [row, ...]}, "errors": {name: str}} and exits 0, or
{"error": str, "step": int, "sql": str} and exits 1. Exits 2 when chdb is not installed.
"""
import json
import os
import sys
import tempfile

try:
    from chdb import session
except ImportError as error:
    print(json.dumps({"error": f"chdb is not importable ({error}); install it with: pip install chdb"}))
    sys.exit(2)


def main(plan_path):
    with open(plan_path, encoding="utf-8") as plan_file:
        plan = json.load(plan_file)
    folder = os.path.dirname(os.path.abspath(plan_path))

    results = {}
    errors = {}
    with tempfile.TemporaryDirectory(dir=folder) as data_path:
        chdb = session.Session(data_path)
        try:
            for index, step in enumerate(plan["steps"]):
                sql = step["sql"]
                if "data" in step:
                    with open(os.path.join(folder, step["data"]), encoding="utf-8") as data:
                        sql = sql + "\n" + data.read()
                try:
                    result = chdb.query(sql, "JSONEachRow")
                except Exception as error:  # chdb raises its own error types for server errors
                    if step.get("optional") and "name" in step:
                        errors[step["name"]] = str(error)
                        continue
                    print(json.dumps({"error": str(error), "step": index, "sql": step["sql"]}))
                    return 1
                if "name" in step:
                    text = result.bytes().decode("utf-8")
                    results[step["name"]] = [json.loads(line) for line in text.splitlines() if line]
        finally:
            chdb.close()

    print(json.dumps({"results": results, "errors": errors}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
