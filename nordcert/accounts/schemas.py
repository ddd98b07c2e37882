"""Input and output models of the accounts API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

SectorType = Literal["bank", "mortgage", "payment_system", "data_centre", "insurer", "pension", "authority",
                     "industry_body", "cert", "supplier"]
RoleName = Literal["cert_admin", "analyst", "reader", "risk_officer"]


class OrganisationCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["Alpha Bank"])
    short_name: str | None = Field(default=None, max_length=50, examples=["ALPHA"])
    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2", examples=["DK"])
    sector_type: SectorType


class OrganisationOut(BaseModel):
    id: int
    name: str
    short_name: str
    country: str
    sector_type: str
    identity_id: str


class UserCreate(BaseModel):
    email: str = Field(examples=["soc@alphabank.example"])
    organisation: str = Field(description="name or short name", examples=["ALPHA"])
    role: RoleName
    name: str | None = None


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    organisation: str
    role: str
    active: bool


class TokenCreate(BaseModel):
    user: str | None = Field(default=None, description="email; default: yourself (others need cert_admin)")
    expires_days: float | None = Field(default=None, gt=0)
    label: str = Field(default="", max_length=200)


class TokenCreated(BaseModel):
    id: int
    token: str = Field(description="shown once: store it now")
    user: str
    expires_at: int | None


class TokenOut(BaseModel):
    id: int
    prefix: str
    label: str
    email: str
    created_at: int
    expires_at: int | None
    revoked_at: int | None
    last_used_at: int | None


class GroupCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["DK banks"])
    description: str = ""
    members: list[str] = Field(default_factory=list, description="organisation names or short names")


class GroupMember(BaseModel):
    organisation: str


class GroupOut(BaseModel):
    id: int
    name: str
    description: str
    members: list[dict[str, int | str]]


class MeOut(BaseModel):
    email: str
    name: str
    role: str
    organisation: OrganisationOut
    sharing_groups: list[str]
