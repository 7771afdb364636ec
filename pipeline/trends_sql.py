"""The trend views of trends.duckdb, as SQL over the five table views."""

# What counts as code: the hosts of CODE_KINDS in pipeline.links.
_HAS_CODE = "kind IN ('github', 'gitlab', 'gitee', 'bitbucket', 'huggingface')"

TREND_VIEWS: dict[str, str] = {
    # One row per (day, paper): how often the paper appeared that day and so far.
    "recurrence_by_day": """
        WITH per_day AS (
            SELECT digest_date AS day, paper_id, count(*) AS appearances
            FROM appearances
            GROUP BY ALL
        )
        SELECT
            d.day,
            d.paper_id,
            p.title,
            d.appearances,
            d.day = p.first_seen_date AS is_first_seen,
            count(*) OVER paper_to_date AS days_seen_to_date,
            sum(d.appearances) OVER paper_to_date AS appearances_to_date
        FROM per_day d
        JOIN papers p USING (paper_id)
        WINDOW paper_to_date AS (PARTITION BY d.paper_id ORDER BY d.day ROWS UNBOUNDED PRECEDING)
        ORDER BY d.day, d.paper_id
    """,
    # One row per day with at least one dated digest.
    "daily_summary": f"""
        WITH days AS (
            SELECT digest_date AS day, count(*) AS digests
            FROM digests
            WHERE status = 'ok' AND duplicate_of IS NULL
            GROUP BY ALL
        ),
        coded AS (
            SELECT DISTINCT paper_id FROM repo_links WHERE {_HAS_CODE}
        ),
        per_day AS (
            SELECT
                a.digest_date AS day,
                count(*) AS appearances,
                count(DISTINCT a.paper_id) AS distinct_papers,
                count(DISTINCT a.paper_id) FILTER (WHERE p.first_seen_date = a.digest_date) AS new_papers,
                count(DISTINCT a.paper_id) FILTER (WHERE c.paper_id IS NOT NULL) AS papers_with_code
            FROM appearances a
            JOIN papers p USING (paper_id)
            LEFT JOIN coded c USING (paper_id)
            GROUP BY ALL
        )
        SELECT
            days.day,
            days.digests,
            coalesce(per_day.appearances, 0) AS appearances,
            coalesce(per_day.distinct_papers, 0) AS distinct_papers,
            coalesce(per_day.new_papers, 0) AS new_papers,
            coalesce(per_day.distinct_papers - per_day.new_papers, 0) AS returning_papers,
            coalesce(per_day.papers_with_code, 0) AS papers_with_code
        FROM days
        LEFT JOIN per_day USING (day)
        ORDER BY days.day
    """,
    # One row per paper; a streak is a run of consecutive calendar days seen.
    "paper_recurrence": f"""
        WITH days AS (
            SELECT DISTINCT paper_id, digest_date AS day FROM appearances
        ),
        islands AS (
            SELECT paper_id, day,
                   day - CAST(row_number() OVER (PARTITION BY paper_id ORDER BY day) AS INTEGER) AS island
            FROM days
        ),
        streaks AS (
            SELECT paper_id, max(streak) AS longest_streak_days
            FROM (SELECT paper_id, island, count(*) AS streak FROM islands GROUP BY ALL)
            GROUP BY paper_id
        ),
        counts AS (
            SELECT paper_id, count(DISTINCT digest_date) AS days_seen, count(*) AS appearances
            FROM appearances
            GROUP BY paper_id
        ),
        coded AS (
            SELECT DISTINCT paper_id FROM repo_links WHERE {_HAS_CODE}
        )
        SELECT
            p.paper_id,
            p.title,
            p.first_seen_date AS first_seen,
            p.last_seen_date AS last_seen,
            c.days_seen,
            c.appearances,
            date_diff('day', p.first_seen_date, p.last_seen_date) + 1 AS span_days,
            s.longest_streak_days,
            coded.paper_id IS NOT NULL AS has_code
        FROM papers p
        JOIN counts c USING (paper_id)
        JOIN streaks s USING (paper_id)
        LEFT JOIN coded USING (paper_id)
        ORDER BY c.days_seen DESC, c.appearances DESC, p.paper_id
    """,
    # One row per canonical link.
    "repo_popularity": """
        SELECT
            l.url,
            any_value(l.kind) AS kind,
            any_value(l.owner) AS owner,
            any_value(l.repo) AS repo,
            count(DISTINCT l.paper_id) AS papers,
            count(a.paper_id) AS appearances,
            min(a.digest_date) AS first_seen,
            max(a.digest_date) AS last_seen
        FROM repo_links l
        LEFT JOIN appearances a USING (paper_id)
        GROUP BY l.url
        ORDER BY papers DESC, appearances DESC, l.url
    """,
}
