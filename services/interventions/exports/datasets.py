"""The interventions service's bulk-export datasets: deliveries and referrals.

Both hold registry ids, never NIK or names, so masked and unmasked exports are the
same rows, built as JSON by the database. Deliveries: the current version of each
delivery, voided ones left out.
"""

# The framing and cursor streaming are shared with the registry (see its module doc).
from common.export_stream import Dataset, json_object, plain_rows, region_filter

DELIVERY_COLUMNS = (
    "id",
    "kind",
    "supersedes",
    "subject_kind",
    "subject_id",
    "counted_subject_id",
    "household_id",
    "village_code",
    "intervention_code",
    "catalogue_version",
    "delivered_on",
    "quantity",
    "unit",
    "sector",
    "organisation",
    "officer",
    "place",
    "funding_source",
    "note",
    "batch_id",
    "recorded_by",
    "recorded_at",
)
REFERRAL_COLUMNS = (
    "id",
    "subject_kind",
    "subject_id",
    "household_id",
    "village_code",
    "referral_type",
    "from_org",
    "to_sector",
    "state",
    "note",
    "reason",
    "created_on",
    "due_on",
    "created_by",
    "created_at",
    "updated_at",
)

_DELIVERY_SCOPE = f"d.is_current AND d.kind <> 'voided' AND {region_filter('d.village_code')}"
DELIVERIES = Dataset(
    "deliveries",
    DELIVERY_COLUMNS,
    # numeric quantities as float8: plain JSON numbers (30, not 30.000)
    f"SELECT {json_object('d', DELIVERY_COLUMNS, {'quantity': 'd.quantity::float8'})}"
    f" FROM delivery d WHERE {_DELIVERY_SCOPE}",
    f"SELECT count(*) FROM delivery d WHERE {_DELIVERY_SCOPE}",
    plain_rows,
)
REFERRALS = Dataset(
    "referrals",
    REFERRAL_COLUMNS,
    f"SELECT {json_object('r', REFERRAL_COLUMNS)} FROM referral r"
    f" WHERE {region_filter('r.village_code')}",
    f"SELECT count(*) FROM referral r WHERE {region_filter('r.village_code')}",
    plain_rows,
)

DATASETS: dict[str, Dataset] = {d.name: d for d in (DELIVERIES, REFERRALS)}
