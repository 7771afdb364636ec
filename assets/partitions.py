"""One dynamic partition per digest file, keyed by its file name."""

import dagster as dg

DIGEST_PARTITIONS = dg.DynamicPartitionsDefinition(name="digest_files")

# Substrings Dagster refuses in a partition key (the UI uses "..." for ranges).
_INVALID_KEY_PARTS = ("...", "\a", "\b", "\f", "\n", "\r", "\t", "\v", "\0")


def is_valid_partition_key(source_name: str) -> bool:
    return bool(source_name) and not any(part in source_name for part in _INVALID_KEY_PARTS)


def sync_digest_partitions(instance: dg.DagsterInstance, source_names: list[str]) -> tuple[list[str], list[str]]:
    """Make the partitions match the files; returns (added, removed)."""
    existing = set(instance.get_dynamic_partitions(DIGEST_PARTITIONS.name))
    wanted = [name for name in source_names if is_valid_partition_key(name)]
    added = [name for name in wanted if name not in existing]
    removed = sorted(existing - set(wanted))
    if added:
        instance.add_dynamic_partitions(DIGEST_PARTITIONS.name, added)
    for name in removed:
        instance.delete_dynamic_partition(DIGEST_PARTITIONS.name, name)
    return added, removed
