"""Reading: a digest file's bytes in, a parsed digest out. No file system, no database."""
