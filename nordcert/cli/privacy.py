"""CLI: ``nordcert blind`` (a member's blinding, offline) and ``nordcert privacy`` (the CERT's keys,
data-subject requests, retention)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import orjson
import typer

from nordcert.cli.common import JsonOpt, engine_of, settings_of
from nordcert.cli.output import console, emit_json
from nordcert.db import transaction
from nordcert.errors import Invalid
from nordcert.observables.kinds import ObservableError
from nordcert.privacy import keys, retention, subjects
from nordcert.privacy.blind_bundle import BlindingError, BlindReport, blind_objects
from nordcert.privacy.blinding import Keyring, KeyringError, blind, lookup_items, new_key

blind_app = typer.Typer(help="Blind personal values under the sector key before they leave your bank (offline).",
                        no_args_is_help=True)
privacy_app = typer.Typer(help="Personal data on this instance: sector key ids, data-subject requests, retention.",
                          no_args_is_help=True)
key_app = typer.Typer(help="The sector keys' public ids and check values (the secrets stay with members).",
                      no_args_is_help=True)
subject_app = typer.Typer(help="Data-subject requests: find, export or erase a person's values.", no_args_is_help=True)
privacy_app.add_typer(key_app, name="key")
privacy_app.add_typer(subject_app, name="subject")

KeyringOpt = Annotated[Path, typer.Option("--keyring", help="The sector keyring file (JSON; keep it secret).",
                                          envvar="NORDCERT_KEYRING")]


def register(app: typer.Typer) -> None:
    app.add_typer(blind_app, name="blind")
    app.add_typer(privacy_app, name="privacy")


def _phone_region(ctx: typer.Context) -> str | None:
    """The instance's phone region (NORDCERT_PHONE_REGION), to read national numbers as the index does."""
    return settings_of(ctx).phone_region


def _ring(path: Path) -> Keyring:
    try:
        return Keyring.load(path)
    except KeyringError as exc:
        raise Invalid(str(exc)) from None


# --- nordcert blind (a member's side) -------------------------------------------------------------


@blind_app.command("keygen")
def keygen(ctx: typer.Context, key_id: Annotated[str, typer.Argument(help="The new key's public id, e.g. sector-2026b.")],
           keyring: KeyringOpt, as_json: JsonOpt = False) -> None:
    """Create a keyring with a new random key, or add one to it and make it current (rotation)."""
    try:
        ring = Keyring.load(keyring).with_new_key(key_id) if keyring.exists() else Keyring((new_key(key_id),), key_id)
    except KeyringError as exc:
        raise Invalid(str(exc)) from None
    ring.save(keyring)
    out = {"key_id": key_id, "check_value": ring.current.check_value, "keyring": str(keyring),
           "keys": [k.key_id for k in ring.keys]}
    if as_json:
        emit_json(out)
        return
    console.print(f"key [bold]{key_id}[/] is current in {keyring} (holding {', '.join(out['keys'])})\n"
                  f"check value: [bold]{out['check_value']}[/] — the CERT registers it with "
                  f"`nordcert privacy key add {key_id} {out['check_value']}`; share the keyring with members only")


@blind_app.command("check")
def check(ctx: typer.Context, keyring: KeyringOpt, as_json: JsonOpt = False) -> None:
    """Print each key's id and check value, to compare with those the CERT registered."""
    ring = _ring(keyring)
    out = [{"key_id": k.key_id, "check_value": k.check_value, "current": k.key_id == ring.current_id}
           for k in ring.keys]
    if as_json:
        emit_json(out)
        return
    for k in out:
        console.print(f"{k['key_id']}  {k['check_value']}{'  (current)' if k['current'] else ''}")


@blind_app.command("drop")
def drop(ctx: typer.Context, key_id: Annotated[str, typer.Argument(help="An old key, once what was blinded under it has expired.")],
         keyring: KeyringOpt) -> None:
    """Remove an old key from the keyring."""
    try:
        _ring(keyring).without(key_id).save(keyring)
    except KeyringError as exc:
        raise Invalid(str(exc)) from None
    console.print(f"dropped {key_id}")


@blind_app.command("value")
def value(ctx: typer.Context, kind: Annotated[str, typer.Argument(help="iban, phone, email, card or wallet.")],
          values: Annotated[list[str], typer.Argument(help="The values to blind.")],
          keyring: KeyringOpt,
          all_keys: Annotated[bool, typer.Option("--all-keys", help="Blind under every key (to look up).")] = False,
          as_json: JsonOpt = False) -> None:
    """Blind values: KEY_ID:KIND:DIGEST, normalised as the platform's index normalises them."""
    ring = _ring(keyring)
    region = _phone_region(ctx)
    out: list[dict[str, Any]] = []
    for i, v in enumerate(values):
        try:
            blinded = [blind(kind, v, k, phone_region=region) for k in (ring.keys if all_keys else (ring.current,))]
        except (ObservableError, ValueError) as exc:
            raise Invalid(f"value {i + 1}: {exc}") from None
        out.append({"index": i + 1, "blinded": blinded})
    if as_json:
        emit_json(out)
        return
    for item in out:
        for b in item["blinded"]:
            console.print(b, highlight=False)


@blind_app.command("lookup")
def lookup(ctx: typer.Context, values: Annotated[list[str], typer.Argument(help="Values to look up (kinds detected).")],
           keyring: KeyringOpt) -> None:
    """Print the JSON body of a blinded screening lookup (POST /api/v1/lookup) under every key."""
    try:
        items = lookup_items(values, _ring(keyring), phone_region=_phone_region(ctx))
    except ObservableError as exc:
        raise Invalid(str(exc)) from None
    sys.stdout.write(json.dumps({"values": items}, indent=2) + "\n")


@blind_app.command("bundle")
def bundle(ctx: typer.Context, source: Annotated[Path, typer.Argument(help="A STIX 2.1 bundle (JSON).")],
           keyring: KeyringOpt,
           output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Where to write (default: stdout).")  # noqa: UP045
                             ] = None,
           mode: Annotated[str, typer.Option("--mode", help="replace: the clear values leave the bundle; annotate: "
                                                            "they stay, with their blinded forms added.")] = "replace",
           as_json: JsonOpt = False) -> None:
    """Blind a bundle's personal values before submitting it; nothing is written if an object cannot be blinded."""
    if mode not in ("replace", "annotate"):
        raise Invalid("--mode is replace or annotate")
    ring = _ring(keyring)
    try:
        data = orjson.loads(source.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise Invalid(f"{source}: not readable JSON ({exc})") from None
    objects = data.get("objects") if isinstance(data, dict) else data
    if not isinstance(objects, list):
        raise Invalid(f"{source}: not a STIX bundle (no 'objects' list)")
    report = BlindReport()
    try:
        blinded = blind_objects(objects, ring, mode, phone_region=_phone_region(ctx), report=report)  # type: ignore[arg-type]
    except BlindingError as exc:
        raise Invalid(str(exc)) from None
    result = {**data, "objects": blinded} if isinstance(data, dict) else {"type": "bundle", "objects": blinded}
    body = orjson.dumps(result, option=orjson.OPT_INDENT_2)
    if output is None:
        sys.stdout.buffer.write(body + b"\n")
    else:
        output.write_bytes(body)
    summary = {"objects": report.objects, "blinded_values": report.blinded_values, "by_kind": report.by_kind,
               "replaced_objects": report.replaced_objects, "rewritten_patterns": report.rewritten_patterns,
               "key_id": ring.current_id, "mode": mode}
    if as_json and output is not None:
        emit_json(summary)
    elif output is not None:
        console.print(f"{report.blinded_values} values blinded under {ring.current_id} in {report.objects} objects "
                      f"({mode}); written to {output}")


# --- nordcert privacy (the CERT's side) ------------------------------------------------------------


@key_app.command("add")
def key_add(ctx: typer.Context, key_id: str, check_value: str,
            note: Annotated[str, typer.Option("--note", help="Free text, e.g. when it was handed out.")] = "",
            as_json: JsonOpt = False) -> None:
    """Register a sector key's id and check value: members may then submit values blinded under it."""
    with transaction(engine_of(ctx)) as conn:
        out = keys.register_key(conn, reader=None, key_id=key_id, check_value=check_value, note=note)
    _print(out, as_json, f"registered {key_id}")


@key_app.command("retire")
def key_retire(ctx: typer.Context, key_id: str, as_json: JsonOpt = False) -> None:
    """Retire a key: nothing new under it; what was blinded under it stays findable until it expires."""
    with transaction(engine_of(ctx)) as conn:
        out = keys.retire_key(conn, reader=None, key_id=key_id)
    _print(out, as_json, f"retired {key_id}")


@key_app.command("list")
def key_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """The registered sector keys."""
    with transaction(engine_of(ctx), write=False) as conn:
        out = keys.list_keys(conn)
    if as_json:
        emit_json(out)
        return
    for k in out:
        state = "active" if k["active"] else f"retired {k['retired_at']}"
        console.print(f"{k['key_id']}  {k['check_value']}  registered {k['registered_at']}  {state}")


def _values(kind: str | None, values: list[str]) -> list[Any]:
    return [{"kind": kind, "value": v} for v in values] if kind else list(values)


KindOpt = Annotated[Optional[str], typer.Option("--kind", help="The values' kind (default: detected); "  # noqa: UP045
                                                               "blinded for KEY_ID:KIND:DIGEST.")]


@subject_app.command("find")
def subject_find(ctx: typer.Context, values: list[str], kind: KindOpt = None, as_json: JsonOpt = False) -> None:
    """Every object holding the values, with all its versions."""
    with transaction(engine_of(ctx)) as conn:
        out = subjects.find(conn, reader=None, values=_values(kind, values), settings=settings_of(ctx))
    if as_json:
        emit_json(out)
        return
    console.print(f"{len(out['objects'])} objects, {out['holding']} versions holding the values")
    for o in out["objects"]:
        console.print(f"  {o['id']}  {o['type']}  by {o['creator']}  {len(o['versions'])} versions")


@subject_app.command("export")
def subject_export(ctx: typer.Context, values: list[str], kind: KindOpt = None,
                   output: Annotated[Path, typer.Option("-o", "--output", help="The bundle to write.")] = Path("subject.json"),
                   ) -> None:
    """Write a STIX bundle of every version holding the values (an access request)."""
    with transaction(engine_of(ctx)) as conn:
        out = subjects.export(conn, reader=None, values=_values(kind, values), settings=settings_of(ctx))
    output.write_bytes(orjson.dumps(out, option=orjson.OPT_INDENT_2))
    console.print(f"{len(out['objects'])} versions written to {output}")


@subject_app.command("erase")
def subject_erase(ctx: typer.Context, values: list[str],
                  reason: Annotated[str, typer.Option("--reason", help="The request's reference (recorded).")],
                  kind: KindOpt = None, as_json: JsonOpt = False) -> None:
    """Delete every object holding the values, all versions; recorded in the audit trail without the values."""
    with transaction(engine_of(ctx)) as conn:
        out = subjects.erase(conn, reader=None, values=_values(kind, values), settings=settings_of(ctx), reason=reason)
    _print(out, as_json, f"erased {len(out['objects'])} objects ({out['versions']} versions)")


@privacy_app.command("purge")
def purge(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Delete now every version whose retention has expired (the worker does this every minute)."""
    total = {"versions": 0, "objects": 0}
    with transaction(engine_of(ctx)) as conn:
        while True:
            done = retention.purge_expired(conn, settings_of(ctx))
            if not done["versions"]:
                break
            total["versions"] += done["versions"]
            total["objects"] += len(done["objects"])
    _print(total, as_json, f"deleted {total['versions']} expired versions of {total['objects']} objects")


@privacy_app.command("backfill")
def backfill(ctx: typer.Context,
             legal_basis: Annotated[Optional[str], typer.Option(  # noqa: UP045
                 "--legal-basis", help="The basis of the data stored so far (default NORDCERT_DEFAULT_LEGAL_BASIS).")
             ] = None,
             as_json: JsonOpt = False) -> None:
    """Record legal basis and expiry for personal data stored before they were kept (after an upgrade)."""
    with transaction(engine_of(ctx)) as conn:
        out = retention.backfill(conn, settings_of(ctx), legal_basis=legal_basis)
    _print(out, as_json, f"{out['recorded']} of {out['scanned']} unrecorded versions hold personal data: recorded under "
                         f"{out['legal_basis']}; {out['expired_already']} are past their retention and go at the next purge")


@privacy_app.command("summary")
def summary(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Personal data held: versions by legal basis and kind, and the next expiry."""
    with transaction(engine_of(ctx), write=False) as conn:
        out = retention.summary(conn)
    if as_json:
        emit_json(out)
        return
    console.print(f"{out['versions']} versions hold personal data; next expiry {out['next_expiry'] or '—'}")
    for basis, n in out["by_legal_basis"].items():
        console.print(f"  {basis}: {n}")
    for kind, n in out["by_kind"].items():
        console.print(f"  {kind}: {n}")


def _print(out: Any, as_json: bool, text: str) -> None:
    if as_json:
        emit_json(out)
    else:
        console.print(text)
