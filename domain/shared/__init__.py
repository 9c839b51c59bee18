"""Building blocks shared by every bounded context: ids, time, unit of work."""
