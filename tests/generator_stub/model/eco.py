# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""A stand-in DataSurface model for the stand-in generator (tests/generator_stub/README.md).

A real model's eco.py builds an Ecosystem out of DataSurface objects; the stand-in's createEcosystem()
returns a plain dict with just what the stand-in generator needs for each platform service provider.
"""


# createEcosystem is the name the DataSurface loader calls.
def createEcosystem():  # pylint: disable=invalid-name
    return {
        "name": "Demo",
        "psps": {
            "Test_DP": {
                "namespace": "demo1",
                # The image the Jobs run comes from the model, as with the real generator (the lab and
                # molecule/bootstrap publish the model with this line pointing at their registry's pinned image).
                "image": "registry.example.invalid/datasurface/datasurface:v1.1.0",
                "image_pull_secret": "dockerhub-creds",
                "postgres_secret": "postgres",
                "git_secret": "git",
                "git_repo": "https://git.example.invalid/datasurface/demo1.git",
                # The PSP's merge store, named like a DataSurface ecosystem names it (a PostgresDatabase with
                # a HostPortPair and a databaseName): the runtime commands of the Jobs connect to it with
                # the credentials of the `postgres` Secret. The lab publishes the model pointing at its own
                # PostgreSQL (tests/lab/tasks/git_server.yml).
                "merge_store": {
                    "kind": "PostgresDatabase",
                    "name": "Test_DP_Merge",
                    "hostPort": {"host": "postgres.example.invalid", "port": 5432},
                    "databaseName": "merge_db_af3",
                },
                "dag_schedule": "@hourly",
                "mcp": True,
            },
        },
    }
