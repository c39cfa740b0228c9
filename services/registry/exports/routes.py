"""Internal streaming export of registry datasets, read by the gateway's export job."""

from common.export_stream import export_router
from services.registry.exports.datasets import DATASETS

router = export_router(DATASETS)
