-- scorecard: one row per province per cycle, built only from the tables completeness,
-- reporting_status, finding, cycle and province (diaphuong.schema).
--
-- rank: within a cycle, among the expected units, worst first (1 = worst); equal keys share a
-- rank. Units not expected (expected_reports = 0) have no rank. The order, most important first:
--   1. no readable spreadsheet (actual_reports = 0)
--   2. first readable spreadsheet late (actual_reports_on_time = 0)
--   3. lower indicator_completeness
--   4. more conflicting or rejected (invalid) figures
--   5. more calendar days late
--   6. more critical findings, then more warnings
-- prev_cycle: the previous cycle of the same kind (same cycle_kind and the same length in months,
-- e.g. 2025-Q2 before 2025-Q3, 2025-06 before 2025-07, 2024 before 2025) present in `cycle`;
-- the *_change columns compare the same province code there (prev_province_set shows when the
-- 2025 reorganisation lies between the two cycles).
CREATE OR REPLACE VIEW scorecard AS
WITH cyc AS (
    SELECT cycle, cycle_kind, period_start, period_end, deadline,
           cycle_kind || ':' || CAST(date_diff('month', period_start, period_end) AS VARCHAR) AS kind_key
    FROM cycle
),
cyc_prev AS (
    SELECT *, LAG(cycle) OVER (PARTITION BY kind_key ORDER BY period_end) AS prev_cycle
    FROM cyc
),
st AS (
    SELECT cycle, province_code,
           count(*) FILTER (WHERE status = 'reported')       AS n_reported,
           count(*) FILTER (WHERE status = 'reported_late')  AS n_reported_late,
           count(*) FILTER (WHERE status = 'missing')        AS n_missing,
           count(*) FILTER (WHERE status = 'invalid')        AS n_invalid,
           count(*) FILTER (WHERE status = 'text_only')      AS n_text_only,
           count(*) FILTER (WHERE status = 'conflict')       AS n_conflict,
           count(*) FILTER (WHERE status = 'not_applicable') AS n_not_applicable
    FROM reporting_status
    GROUP BY cycle, province_code
),
fi AS (
    SELECT cycle, province_code,
           count(*) FILTER (WHERE severity = 'critical') AS findings_critical,
           count(*) FILTER (WHERE severity = 'warning')  AS findings_warning,
           count(*) FILTER (WHERE severity = 'info')     AS findings_info
    FROM finding
    WHERE province_code IS NOT NULL
    GROUP BY cycle, province_code
),
names AS (
    SELECT code, province_set, arg_max(name_vi, valid_from) AS name_vi
    FROM province
    GROUP BY code, province_set
),
base AS (
    SELECT c.cycle, y.cycle_kind, y.period_end, y.deadline, y.prev_cycle,
           c.province_code, c.province_set,
           coalesce(p.name_vi, n.name_vi) AS province_name,
           c.expected_reports, c.actual_reports, c.actual_reports_on_time,
           c.reporting_rate, c.reporting_rate_on_time, c.timeliness_among_received,
           c.required_cells, c.reported_cells, c.indicator_completeness,
           c.first_received_at, c.days_late, c.working_days_late,
           coalesce(st.n_reported, 0)       AS n_reported,
           coalesce(st.n_reported_late, 0)  AS n_reported_late,
           coalesce(st.n_missing, 0)        AS n_missing,
           coalesce(st.n_invalid, 0)        AS n_invalid,
           coalesce(st.n_text_only, 0)      AS n_text_only,
           coalesce(st.n_conflict, 0)       AS n_conflict,
           coalesce(st.n_not_applicable, 0) AS n_not_applicable,
           coalesce(fi.findings_critical, 0) AS findings_critical,
           coalesce(fi.findings_warning, 0)  AS findings_warning,
           coalesce(fi.findings_info, 0)     AS findings_info
    FROM completeness AS c
    LEFT JOIN cyc_prev AS y ON y.cycle = c.cycle
    LEFT JOIN st ON st.cycle = c.cycle AND st.province_code = c.province_code
    LEFT JOIN fi ON fi.cycle = c.cycle AND fi.province_code = c.province_code
    LEFT JOIN province AS p
           ON p.code = c.province_code AND p.province_set = c.province_set
          AND y.period_end BETWEEN p.valid_from AND coalesce(p.valid_to, DATE '9999-12-31')
    LEFT JOIN names AS n ON n.code = c.province_code AND n.province_set = c.province_set
),
ranked AS (
    SELECT *,
           CASE WHEN expected_reports = 1 THEN
               rank() OVER (
                   PARTITION BY cycle, expected_reports = 1
                   ORDER BY coalesce(actual_reports, 0) ASC,
                            coalesce(actual_reports_on_time, 0) ASC,
                            coalesce(indicator_completeness, 0) ASC,
                            n_conflict + n_invalid DESC,
                            coalesce(days_late, 0) DESC,
                            findings_critical DESC,
                            findings_warning DESC)
           END AS rank
    FROM base
)
SELECT r.cycle, r.cycle_kind, r.period_end, r.deadline,
       r.province_code, r.province_set, r.province_name, r.rank,
       r.expected_reports, r.actual_reports, r.actual_reports_on_time,
       r.reporting_rate, r.reporting_rate_on_time, r.timeliness_among_received,
       r.required_cells, r.reported_cells, r.indicator_completeness,
       r.first_received_at, r.days_late, r.working_days_late,
       r.n_reported, r.n_reported_late, r.n_missing, r.n_invalid, r.n_text_only, r.n_conflict,
       r.n_not_applicable,
       r.findings_critical, r.findings_warning, r.findings_info,
       r.prev_cycle,
       pr.province_set AS prev_province_set,
       pr.rank AS prev_rank,
       r.reporting_rate - pr.reporting_rate                 AS reporting_rate_change,
       r.reporting_rate_on_time - pr.reporting_rate_on_time AS reporting_rate_on_time_change,
       r.indicator_completeness - pr.indicator_completeness AS indicator_completeness_change
FROM ranked AS r
LEFT JOIN ranked AS pr ON pr.cycle = r.prev_cycle AND pr.province_code = r.province_code;
