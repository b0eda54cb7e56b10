"""dbt's saved parse state (`partial_parse.msgpack`) carried over to a copy of a warehouse.

dbt reparses the whole project when the profile differs from the one the saved state was parsed
with, and the profile holds the warehouse path (profiles.yml: `CVW_WAREHOUSE`). A copy of the
session's run under another path would pay a full parse (about twice the CPU of a partial one) on its
first dbt command. `retarget` rewrites the state's profile hash to the copy's path, computed as dbt
computes it (`ManifestLoader.build_manifest_state_check`: the sorted connection info of the rendered
profile), after checking that the same computation gives the hash stored for the original path and
that the two profiles differ in the path alone. When they do not (another dbt, another profile,
another file name), the state is left as it is: dbt then parses in full, as before. dbt still checks every file's checksum, the vars and dbt_project.yml,
and nothing in this project renders the warehouse path at parse time (no `target.path`), so the state
parsed for the original path is the copy's.
"""

from __future__ import annotations

import contextvars
import os
import pprint
from pathlib import Path

from flows.config import ENV_WAREHOUSE, PROJECT_DIR
from flows.dbt_artifacts import PARTIAL_PARSE_FILE

PROFILE = "customer_value"


def connection_info(warehouse: Path) -> list[tuple[str, object]]:
    """The sorted connection info of the profile when `CVW_WAREHOUSE` is `warehouse`, as dbt hashes it
    (rendered in a context of its own: dbt's invocation context of this process is left as it was)."""
    return contextvars.copy_context().run(_connection_info, warehouse)


def _connection_info(warehouse: Path) -> list[tuple[str, object]]:
    from dbt.config.profile import Profile, read_profile
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context

    from flows.duckdb_connection import dbt_environment

    # the environment flows/transform.py gives dbt: the DuckDB resource setting is in the profile
    set_invocation_context({**os.environ, **dbt_environment(), ENV_WAREHOUSE: str(warehouse)})
    raw = read_profile(str(PROJECT_DIR))[PROFILE]
    target, rendered = Profile.render_profile(raw, PROFILE, None, ProfileRenderer({}))
    credentials = Profile._credentials_from_profile(rendered, PROFILE, target)
    return sorted(credentials.connection_info())


def profile_hash(info: list[tuple[str, object]]) -> str:
    from dbt.contracts.files import FileHash

    return FileHash.from_contents(pprint.pformat(info)).checksum


def retarget(target_path: Path, parsed_for: Path, warehouse: Path) -> bool:
    """Make `target_path`'s saved parse state (parsed with the warehouse `parsed_for`) that of `warehouse`;
    False (the file unchanged) when there is none, when its hash is not the one computed for `parsed_for`,
    or when the profiles differ in more than the path (and the spill folder beside it): DuckDB's database name is the file's stem, and
    the parsed nodes carry it, so a copy must keep the file name (build.duckdb stays build.duckdb)."""
    import msgpack

    state_file = Path(target_path) / PARTIAL_PARSE_FILE
    if not state_file.is_file():
        return False
    before, after = connection_info(parsed_for), connection_info(warehouse)
    # the same profile but for the path (and what is derived from it: the spill folder `<path>.tmp`)
    # (compared on one line: pformat's default width splits a long path into pieces, which then do not match)
    wide = 10**6
    if pprint.pformat(before, width=wide).replace(str(parsed_for), str(warehouse)) != pprint.pformat(after, width=wide):
        return False
    state = msgpack.unpackb(state_file.read_bytes(), strict_map_key=False)
    stored = state.get("state_check", {}).get("profile_hash", {})
    if stored.get("checksum") != profile_hash(before):
        return False
    stored["checksum"] = profile_hash(after)
    state_file.write_bytes(msgpack.packb(state))
    return True
