"""Internal streaming export of interventions datasets, read by the gateway's export job."""

from common.export_stream import export_router
from services.interventions.exports.datasets import DATASETS

router = export_router(DATASETS)
