"""Settings: declared once, each with its description, built at the entry point and passed down.

No other module reads the environment. Every field can be set as ``NORDCERT_<NAME>``.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

TlpName = Literal["clear", "green", "amber", "amber+strict", "red"]

#: Namespace for identifiers this instance derives (its STIX identity, organisations' identities).
NORDCERT_NAMESPACE = uuid.UUID("5a1e0c3e-8d0f-4c7e-9b5e-6e6f72646365")


#: Default half-lives (days) of the decay score by observable kind: network infrastructure turns over
#: in weeks, file hashes and bank accounts stay meaningful for months to years.
DEFAULT_HALF_LIVES: dict[str, float] = {
    "ipv4": 30, "ipv6": 30, "cidr": 60, "domain": 90, "url": 30, "email": 180,
    "md5": 730, "sha1": 730, "sha256": 730, "sha512": 730,
    "iban": 365, "bic": 1825, "bin": 365, "wallet": 365, "phone": 180, "asn": 365,
}


#: Legal bases for sharing personal fraud data (GDPR Art 6(1)); the CERT states its own in legal_bases.
DEFAULT_LEGAL_BASES: dict[str, str] = {
    "fraud-prevention": "GDPR Art 6(1)(f), legitimate interest in preventing fraud (Recital 47); payment "
    "service providers' processing to prevent, investigate and detect payment fraud (PSD2 Art 94(1))",
    "legal-obligation": "GDPR Art 6(1)(c), a legal obligation of the submitting member (e.g. AML/CFT, PSD2)",
    "public-task": "GDPR Art 6(1)(e), a task in the public interest (a CSIRT's or authority's mandate, NIS2 Art 11)",
    "network-security": "GDPR Art 6(1)(f), ensuring network and information security (Recital 49)",
}

#: Default retention (days) of personal data by kind: mule accounts and phone numbers for a year.
DEFAULT_RETENTION_DAYS: dict[str, int] = {
    "iban": 365, "phone": 365, "email": 365, "wallet": 730, "card": 365, "blinded": 365,
}


class Settings(BaseSettings):
    """One instance's configuration."""

    model_config = SettingsConfigDict(env_prefix="NORDCERT_", extra="ignore")

    home: Path = Field(
        default=Path("./nordcert-data"),
        description="Instance folder: holds the SQLite store (nordcert.sqlite3) unless database_url is set.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the store, e.g. postgresql+psycopg://user@host/db. "
        "Default: a SQLite file in the instance folder.",
    )
    instance_name: str = Field(
        default="nordcert",
        description="This instance's name; anonymous submissions show it as their creator.",
    )
    environment: Literal["development", "production"] = Field(
        default="development",
        description="'production' refuses insecure settings (e.g. binding the demo tokens).",
    )
    default_tlp: TlpName = Field(
        default="amber",
        description="TLP given to submitted objects that carry no TLP marking and whose submission names none. "
        "Untagged is never treated as CLEAR.",
    )
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = Field(
        default="FULL",
        description="SQLite PRAGMA synchronous (WAL mode). FULL makes every committed transaction durable.",
    )
    sqlite_mmap_size: int = Field(
        default=1 << 30,
        ge=0,
        description="Bytes of the SQLite file read through memory mapping (PRAGMA mmap_size; 0 turns it off). "
        "Reads of a large store (feeds, exports, lookups) skip a system call per page.",
    )
    sqlite_page_size: int = Field(
        default=8192,
        ge=512,
        le=65536,
        description="Bytes per page of a SQLite store, fixed when the store is created (an existing store keeps its "
        "own); a power of two from 512 to 65536. Larger pages mean fewer write-ahead-log frames, and system calls, "
        "per commit; but an insert into a large index with random keys (STIX ids) rewrites a whole page, so past a "
        "few hundred thousand objects larger pages write more per commit. 8 KiB is the measured balance "
        "(docs/benchmarks.md).",
    )
    sqlite_checkpoint_interval: float = Field(
        default=0.25,
        ge=0,
        le=3600,
        description="SQLite: seconds between background checkpoints (the write-ahead log copied into the database "
        "file by a thread, after a write commits) at most; 0 leaves them to SQLite, in the connection that "
        "commits, which then waits for them.",
    )
    ingest_chunk_size: int = Field(
        default=2000,
        ge=1,
        le=100_000,
        description="Objects validated and written per bulk statement during ingest.",
    )
    federation_page_size: int = Field(
        default=1000,
        ge=1,
        le=10_000,
        description="Objects per page pulled from, and per batch pushed to, a federation peer.",
    )
    worker_threads: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Peers `nordcert worker` syncs at the same time (a slow peer never holds up the others).",
    )
    max_request_bytes: int = Field(
        default=200 * 1024 * 1024,
        ge=1024,
        description="Largest TAXII envelope (the API root's max_content_length), STIX bundle submitted to the API, "
        "import or uploaded file (bytes); larger ones are answered 413 and go through `nordcert import`.",
    )
    max_reported_errors: int = Field(
        default=1000,
        ge=1,
        description="At most this many rejected objects are listed in one error answer (the count is always exact).",
    )

    phone_region: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{2}$",
        description="ISO 3166 country (e.g. SE) whose national phone numbers are accepted without +country code. "
        "Unset: every phone number must carry its country code.",
    )
    decay_half_life_days: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_HALF_LIVES),
        description="Half-life in days of an observable's decay score, by kind (ipv4, domain, iban, ...); "
        "kinds left out keep their defaults. As JSON in the environment.",
    )
    decay_stale_below: float = Field(
        default=0.25,
        ge=0.0,
        le=1.0,
        description="An indicator whose decay score falls below this is stale: marked so in lookups.",
    )
    max_lookup_values: int = Field(
        default=10_000,
        ge=1,
        le=100_000,
        description="Most values one screening lookup request may ask about.",
    )

    legal_bases: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_LEGAL_BASES),
        description="The legal bases an object holding personal data (IBAN, phone, e-mail, wallet, card, blinded "
        "values) may be shared under: key -> description. As JSON in the environment.",
    )
    default_legal_basis: str = Field(
        default="fraud-prevention",
        description="The legal basis (a key of legal_bases) of personal data submitted without one. Empty: a "
        "submission holding personal data must name its basis, or it is refused.",
    )
    retention_days: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_RETENTION_DAYS),
        description="Days a stored version holding personal data is kept, by kind (iban, phone, email, wallet, card, "
        "blinded); the shortest of its kinds applies; the worker then deletes it. Kinds left out keep their defaults.",
    )

    baseline_min_group: int = Field(
        default=5,
        ge=3,
        le=1000,
        description="Fewest members a group of the baseline benchmark and heat map (the sector, a member type, the "
        "answers to one control) must hold for its figures to be shown; smaller groups are suppressed. At least 3: "
        "in a group of two, each member could work out the other's answers.",
    )

    # --- web interface ----------------------------------------------------------------------
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key (32+ characters) that signs the web pages' CSRF tokens. Required in production; "
        "unset in development, each process makes a random one.",
    )
    session_hours: float = Field(
        default=12.0,
        gt=0,
        le=24 * 30,
        description="Hours a web log-in session lasts before the user logs in again.",
    )
    session_cookie_secure: bool | None = Field(
        default=None,
        description="Send the session cookie over HTTPS only. Default: yes in production, no in development; "
        "false is refused in production.",
    )
    login_max_failures: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Failed web log-ins in a row after which the account is locked for login_lockout_minutes.",
    )
    login_lockout_minutes: float = Field(
        default=15.0,
        gt=0,
        description="Minutes an account stays locked after login_max_failures failed log-ins.",
    )

    @model_validator(mode="after")
    def _complete_privacy(self) -> Settings:
        self.retention_days = {**DEFAULT_RETENTION_DAYS, **self.retention_days}
        if any(days < 1 for days in self.retention_days.values()):
            raise ValueError("retention_days must be at least 1 day for every kind")
        if self.default_legal_basis and self.default_legal_basis not in self.legal_bases:
            raise ValueError(f"default_legal_basis {self.default_legal_basis!r} is not a key of legal_bases")
        return self

    # --- hardening (nordcert.guard; docs/assurance.md) ------------------------------------------
    max_json_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=1024,
        description="Largest body of a JSON API request or a web form (bytes), uploads and TAXII excepted "
        "(max_request_bytes); larger ones are answered 413.",
    )
    request_body_timeout_seconds: float = Field(
        default=120.0,
        gt=0,
        description="Seconds a client has to send a request's whole body; a slower one is answered 408.",
    )
    request_timeout_seconds: float = Field(
        default=60.0,
        ge=0,
        description="Seconds a read (GET, HEAD) may take before its answer starts; a slower one is answered 503 "
        "with Retry-After (0: no limit). Writes are never cut off.",
    )
    lookup_rate_per_token: float = Field(
        default=1000.0,
        ge=0,
        description="Screening lookup requests (GET and POST /api/v1/lookup) per second one API token may make, "
        "in bursts of twice that; more are answered 429 with Retry-After. Counted per API process (0: no limit).",
    )
    lookup_rate_per_address: float = Field(
        default=2000.0,
        ge=0,
        description="Screening lookup requests per second from one client address, in bursts of twice that; more "
        "are answered 429 with Retry-After. Counted per API process (0: no limit).",
    )
    login_rate_per_address: float = Field(
        default=30.0,
        ge=0,
        description="Web log-in attempts per minute from one client address (in bursts of as many); more are "
        "answered 429 with Retry-After. Counted per API process (0: no limit).",
    )
    login_address_max_failures: int = Field(
        default=30,
        ge=1,
        description="Failed web log-ins from one client address within login_address_window_minutes after which "
        "that address may not log in until the window ends (429). Counted in the store: every API process agrees.",
    )
    login_address_window_minutes: float = Field(
        default=15.0,
        gt=0,
        description="The window in which login_address_max_failures failed log-ins from one address are counted.",
    )
    hsts_seconds: int = Field(
        default=31_536_000,
        ge=0,
        description="max-age of Strict-Transport-Security, sent on answers to requests that came over HTTPS "
        "(0: never).",
    )
    hsts_always: bool = Field(
        default=False,
        description="Send Strict-Transport-Security on every answer: for a proxy that ends TLS without telling "
        "nordcert (X-Forwarded-Proto from an address in trusted_proxies).",
    )
    trusted_proxies: str = Field(
        default="127.0.0.1",
        description="Addresses of reverse proxies (comma-separated, or *) whose X-Forwarded-For and "
        "X-Forwarded-Proto `nordcert serve` believes: the client address rate limits count by, and HTTPS.",
    )

    @model_validator(mode="after")
    def _page_size_is_a_power_of_two(self) -> Settings:
        if self.sqlite_page_size & (self.sqlite_page_size - 1):
            raise ValueError(f"sqlite_page_size must be a power of two from 512 to 65536, not {self.sqlite_page_size}")
        return self

    @model_validator(mode="after")
    def _refuse_insecure(self) -> Settings:
        if self.environment == "production" and self.sqlite_synchronous == "OFF":
            raise ValueError("sqlite_synchronous=OFF loses committed data on a crash; refused in production")
        if self.environment == "production":
            key = self.secret_key.get_secret_value() if self.secret_key else ""
            if len(key) < 32:
                raise ValueError("production needs NORDCERT_SECRET_KEY of at least 32 characters")
            if self.session_cookie_secure is False:
                raise ValueError("session_cookie_secure=false sends sessions in clear text; refused in production")
        return self

    @property
    def secure_cookies(self) -> bool:
        if self.session_cookie_secure is not None:
            return self.session_cookie_secure
        return self.environment == "production"

    def half_life_days(self, kind: str) -> float:
        return self.decay_half_life_days.get(kind) or DEFAULT_HALF_LIVES.get(kind, 90.0)

    @property
    def sqlite_path(self) -> Path:
        return self.home / "nordcert.sqlite3"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.sqlite_path}"

    @property
    def instance_identity_id(self) -> str:
        """The STIX identity that stands for this instance (and for anonymous members)."""
        return f"identity--{uuid.uuid5(NORDCERT_NAMESPACE, 'instance:' + self.instance_name)}"
