-- Names of area codes of any level (district, sub-district, community, grid), for answers that
-- list areas by code. Codes with no area are left out.
SELECT code, name FROM district WHERE code = ANY(CAST(:codes AS text[]))
UNION ALL SELECT code, name FROM subdistrict WHERE code = ANY(CAST(:codes AS text[]))
UNION ALL SELECT code, name FROM community WHERE code = ANY(CAST(:codes AS text[]))
UNION ALL SELECT code, name FROM grid WHERE code = ANY(CAST(:codes AS text[]))
