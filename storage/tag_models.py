"""Tables of tags: tag types and tags (from the config), and the tags of incidents and cases.

A tag with no tag type is a legacy tag: free text from before tag types existed, kept so no data
is lost; declaring a tag of the same name in the project adopts it (see domain/config/apply.py).
"""

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class TagType(SQLModel, table=True):
    """A kind of tag of a project; `exclusive`: at most one per incident; `required`: needed to close."""

    __tablename__ = "tag_type"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    project_id: int = Field(foreign_key="project.id")
    name: str
    description: str = ""
    exclusive: bool = False
    required: bool = False
    enabled: bool = True


class Tag(SQLModel, table=True):
    """A tag of a project; `tag_type_id` None (with `legacy`) for a free-text tag from before tag types."""

    __tablename__ = "tag"
    __table_args__ = (UniqueConstraint("tag_type_id", "name"),)

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    project_id: int = Field(foreign_key="project.id", index=True)
    tag_type_id: int | None = Field(default=None, foreign_key="tag_type.id")
    name: str
    description: str = ""
    legacy: bool = False
    enabled: bool = True


class IncidentTag(SQLModel, table=True):
    """A tag on an incident."""

    __tablename__ = "incident_tag"
    __table_args__ = (UniqueConstraint("incident_id", "tag_id"),)

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    incident_id: int = Field(foreign_key="incident.id")
    tag_id: int = Field(foreign_key="tag.id", index=True)


class CaseTag(SQLModel, table=True):
    """A tag on a case."""

    __tablename__ = "case_tag"
    __table_args__ = (UniqueConstraint("case_id", "tag_id"),)

    id: int = Field(default=None, primary_key=True)  # set by the database on insert
    case_id: int = Field(foreign_key="case.id")
    tag_id: int = Field(foreign_key="tag.id", index=True)
