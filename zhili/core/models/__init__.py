from zhili.core.models.base import BaseModel, DataSource, GeoModel, RestrictedQuerySet, TreeModel
from zhili.core.models.changes import ChangeAction, ChangeRecord

__all__ = [
    "BaseModel",
    "ChangeAction",
    "ChangeRecord",
    "DataSource",
    "GeoModel",
    "RestrictedQuerySet",
    "TreeModel",
]
