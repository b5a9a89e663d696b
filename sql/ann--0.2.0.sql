-- ann 0.2.0: install script. SQL-compatible with pgvector 0.8: same type, function, operator,
-- cast, aggregate and opclass names and signatures, so pgvector clients work unchanged.

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION ann" to load this file. \quit

--------------------------------------------------------------------------------------------
-- vector type
--------------------------------------------------------------------------------------------

CREATE TYPE vector;

CREATE FUNCTION vector_in(cstring, oid, integer) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vector_out(vector) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vector_typmod_in(cstring[]) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vector_recv(internal, oid, integer) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vector_send(vector) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Varlena: int16 dim, int16 unused, float4[dim]. External storage: out of line when large,
-- never compressed.
CREATE TYPE vector (
	INPUT     = vector_in,
	OUTPUT    = vector_out,
	TYPMOD_IN = vector_typmod_in,
	RECEIVE   = vector_recv,
	SEND      = vector_send,
	STORAGE   = external
);

--------------------------------------------------------------------------------------------
-- vector functions
--------------------------------------------------------------------------------------------

CREATE FUNCTION l2_distance(vector, vector) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION inner_product(vector, vector) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION cosine_distance(vector, vector) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION l1_distance(vector, vector) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vector_dims(vector) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vector_norm(vector) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION l2_normalize(vector) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION binary_quantize(vector) RETURNS bit
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION subvector(vector, int, int) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

--------------------------------------------------------------------------------------------
-- vector private functions (operators, opclasses, aggregates)
--------------------------------------------------------------------------------------------

CREATE FUNCTION vector_add(vector, vector) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vector_sub(vector, vector) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vector_mul(vector, vector) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vector_concat(vector, vector) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vector_lt(vector, vector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vector_le(vector, vector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vector_eq(vector, vector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vector_ne(vector, vector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vector_ge(vector, vector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vector_gt(vector, vector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vector_cmp(vector, vector) RETURNS int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- index support functions
CREATE FUNCTION vector_l2_squared_distance(vector, vector) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vector_negative_inner_product(vector, vector) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vector_spherical_distance(vector, vector) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- avg(vector) state functions: state is double precision[] {count, sum_1, ..., sum_dim}
CREATE FUNCTION vector_accum(double precision[], vector) RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vector_avg(double precision[]) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vector_combine(double precision[], double precision[]) RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

--------------------------------------------------------------------------------------------
-- vector aggregates
--------------------------------------------------------------------------------------------

CREATE AGGREGATE avg(vector) (
	SFUNC = vector_accum,
	STYPE = double precision[],
	FINALFUNC = vector_avg,
	COMBINEFUNC = vector_combine,
	INITCOND = '{0}',
	PARALLEL = SAFE
);

CREATE AGGREGATE sum(vector) (
	SFUNC = vector_add,
	STYPE = vector,
	COMBINEFUNC = vector_add,
	PARALLEL = SAFE
);

--------------------------------------------------------------------------------------------
-- vector casts
--------------------------------------------------------------------------------------------

CREATE FUNCTION vector(vector, integer, boolean) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION array_to_vector(integer[], integer, boolean) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION array_to_vector(real[], integer, boolean) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION array_to_vector(double precision[], integer, boolean) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION array_to_vector(numeric[], integer, boolean) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vector_to_float4(vector, integer, boolean) RETURNS real[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- vector(n) typmod coercion
CREATE CAST (vector AS vector)
	WITH FUNCTION vector(vector, integer, boolean) AS IMPLICIT;

CREATE CAST (vector AS real[])
	WITH FUNCTION vector_to_float4(vector, integer, boolean) AS IMPLICIT;

CREATE CAST (integer[] AS vector)
	WITH FUNCTION array_to_vector(integer[], integer, boolean) AS ASSIGNMENT;

CREATE CAST (real[] AS vector)
	WITH FUNCTION array_to_vector(real[], integer, boolean) AS ASSIGNMENT;

CREATE CAST (double precision[] AS vector)
	WITH FUNCTION array_to_vector(double precision[], integer, boolean) AS ASSIGNMENT;

CREATE CAST (numeric[] AS vector)
	WITH FUNCTION array_to_vector(numeric[], integer, boolean) AS ASSIGNMENT;

--------------------------------------------------------------------------------------------
-- vector operators
--------------------------------------------------------------------------------------------

-- distances
CREATE OPERATOR <-> (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = l2_distance,
	COMMUTATOR = '<->'
);

CREATE OPERATOR <#> (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_negative_inner_product,
	COMMUTATOR = '<#>'
);

CREATE OPERATOR <=> (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = cosine_distance,
	COMMUTATOR = '<=>'
);

CREATE OPERATOR <+> (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = l1_distance,
	COMMUTATOR = '<+>'
);

-- element-wise arithmetic and concatenation
CREATE OPERATOR + (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_add,
	COMMUTATOR = +
);

CREATE OPERATOR - (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_sub
);

CREATE OPERATOR * (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_mul,
	COMMUTATOR = *
);

CREATE OPERATOR || (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_concat
);

-- comparisons (btree). Unlike pgvector, = is MERGES (merge joins on vectors) and <> uses the
-- inequality estimators neqsel/neqjoinsel; neither changes any result.
CREATE OPERATOR < (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_lt,
	COMMUTATOR = > , NEGATOR = >= ,
	RESTRICT = scalarltsel, JOIN = scalarltjoinsel
);

CREATE OPERATOR <= (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_le,
	COMMUTATOR = >= , NEGATOR = > ,
	RESTRICT = scalarlesel, JOIN = scalarlejoinsel
);

CREATE OPERATOR = (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_eq,
	COMMUTATOR = = , NEGATOR = <> ,
	RESTRICT = eqsel, JOIN = eqjoinsel,
	MERGES
);

CREATE OPERATOR <> (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_ne,
	COMMUTATOR = <> , NEGATOR = = ,
	RESTRICT = neqsel, JOIN = neqjoinsel
);

CREATE OPERATOR >= (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_ge,
	COMMUTATOR = <= , NEGATOR = < ,
	RESTRICT = scalargesel, JOIN = scalargejoinsel
);

CREATE OPERATOR > (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_gt,
	COMMUTATOR = < , NEGATOR = <= ,
	RESTRICT = scalargtsel, JOIN = scalargtjoinsel
);

--------------------------------------------------------------------------------------------
-- vector btree opclass
--------------------------------------------------------------------------------------------

CREATE OPERATOR CLASS vector_ops
	DEFAULT FOR TYPE vector USING btree AS
	OPERATOR 1 < ,
	OPERATOR 2 <= ,
	OPERATOR 3 = ,
	OPERATOR 4 >= ,
	OPERATOR 5 > ,
	FUNCTION 1 vector_cmp(vector, vector);

--------------------------------------------------------------------------------------------
-- index access methods and their opclasses (hnsw, ivfflat) are appended below this line.
-- Keep everything above this banner about the vector type itself.
--------------------------------------------------------------------------------------------

--------------------------------------------------------------------------------------------
-- hnsw index access method
--------------------------------------------------------------------------------------------

CREATE FUNCTION hnsw_handler(internal) RETURNS index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C;

CREATE ACCESS METHOD hnsw TYPE INDEX HANDLER hnsw_handler;

COMMENT ON ACCESS METHOD hnsw IS 'hnsw index access method';

-- Support function 1 names the distance the graph is ranked by; function 2 (a norm) makes
-- the index normalise vectors, which turns inner product into cosine distance.
CREATE OPERATOR CLASS vector_l2_ops
	FOR TYPE vector USING hnsw AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 vector_l2_squared_distance(vector, vector);

CREATE OPERATOR CLASS vector_ip_ops
	FOR TYPE vector USING hnsw AS
	OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 vector_negative_inner_product(vector, vector);

CREATE OPERATOR CLASS vector_cosine_ops
	FOR TYPE vector USING hnsw AS
	OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 vector_negative_inner_product(vector, vector),
	FUNCTION 2 vector_norm(vector);

CREATE OPERATOR CLASS vector_l1_ops
	FOR TYPE vector USING hnsw AS
	OPERATOR 1 <+> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 l1_distance(vector, vector);

--------------------------------------------------------------------------------------------
-- index check
--------------------------------------------------------------------------------------------

-- Walks an ann index (hnsw, ivfflat) and raises index_corrupted (XX002) at the first structural
-- damage; a sound index gives one row per thing counted. It runs beside inserts, scans and
-- VACUUM. Superusers only by default, like amcheck: it reads every page of the index and
-- line pointers of the table.
CREATE FUNCTION ann_index_check(index regclass, OUT item text, OUT count bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL RESTRICTED;

REVOKE ALL ON FUNCTION ann_index_check(regclass) FROM PUBLIC;

--------------------------------------------------------------------------------------------
-- ivfflat index access method
--------------------------------------------------------------------------------------------

CREATE FUNCTION ivfflat_handler(internal) RETURNS index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C;

CREATE ACCESS METHOD ivfflat TYPE INDEX HANDLER ivfflat_handler;

COMMENT ON ACCESS METHOD ivfflat IS 'ivfflat index access method';

-- Support functions are numbered as pgvector's: 1 the distance rows are ranked by, 2 a norm
-- that makes the index normalise vectors (cosine), 3 the distance k-means minimises, 4 a
-- norm that makes k-means cluster on the unit sphere (inner product and cosine).
CREATE OPERATOR CLASS vector_l2_ops
	DEFAULT FOR TYPE vector USING ivfflat AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 vector_l2_squared_distance(vector, vector),
	FUNCTION 3 l2_distance(vector, vector);

CREATE OPERATOR CLASS vector_ip_ops
	FOR TYPE vector USING ivfflat AS
	OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 vector_negative_inner_product(vector, vector),
	FUNCTION 3 vector_spherical_distance(vector, vector),
	FUNCTION 4 vector_norm(vector);

CREATE OPERATOR CLASS vector_cosine_ops
	FOR TYPE vector USING ivfflat AS
	OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 vector_negative_inner_product(vector, vector),
	FUNCTION 2 vector_norm(vector),
	FUNCTION 3 vector_spherical_distance(vector, vector),
	FUNCTION 4 vector_norm(vector);

--------------------------------------------------------------------------------------------
-- ann_recall: how well an index answers on the table's own data
--------------------------------------------------------------------------------------------

-- Samples stored vectors as queries and answers each twice: through the index, under the
-- session's search settings (hnsw.ef_search, ivfflat.probes, ...), and by an exact scan.
-- A returned row counts as found when its distance is at most the k-th exact distance, so
-- rows tied with a true neighbour (duplicates) are not misses. The planner settings it
-- changes are listed in SET clauses: PostgreSQL then restores the caller's values when the
-- function returns or fails, including what set_config(..., true) changed inside it.
CREATE FUNCTION ann_recall(
	tbl regclass,
	col name,
	sample_size integer DEFAULT 100,
	k integer DEFAULT 10,
	op text DEFAULT NULL)
RETURNS TABLE (
	index_name regclass,
	distance_operator text,
	search_settings text,
	queries integer,
	recall double precision,
	min_recall double precision,
	short_queries integer,
	index_ms double precision,
	exact_ms double precision)
LANGUAGE plpgsql VOLATILE
SET enable_seqscan = on
SET enable_indexscan = on
SET enable_indexonlyscan = on
SET enable_bitmapscan = on
AS $$
DECLARE
	col_attnum smallint;
	candidate record;
	chosen record;
	indexed_operators text[] := '{}';
	matching_operators text[] := '{}';
	matching_indexes text[] := '{}';
	operator_sql text;
	sample_sql text;
	index_sql text;
	exact_sql text;
	plan jsonb;
	sample record;
	started timestamptz;
	index_total interval := '0';
	exact_total interval := '0';
	kth_distance double precision;
	exact_count bigint;
	index_hits bigint;
	index_count bigint;
	query_recall double precision;
	recall_sum double precision := 0;
BEGIN
	IF tbl IS NULL OR col IS NULL THEN
		RAISE EXCEPTION 'ann_recall: table and column must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF sample_size IS NULL OR sample_size < 1 THEN
		RAISE EXCEPTION 'ann_recall: sample_size must be at least 1, not %', sample_size
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF k IS NULL OR k < 1 THEN
		RAISE EXCEPTION 'ann_recall: k must be at least 1, not %', k
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	SELECT a.attnum INTO col_attnum
	FROM pg_catalog.pg_attribute a
	WHERE a.attrelid = tbl AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'column "%" of relation % does not exist', col, tbl
			USING ERRCODE = 'undefined_column';
	END IF;

	-- Usable indexes: valid, on exactly this column, not partial, with an operator class
	-- that orders by a distance operator (hnsw, ivfflat, or any other such method).
	FOR candidate IN
		SELECT i.indexrelid AS index_oid, ic.relname AS index_relname, am.amname AS am_name,
			o.oprname::text AS operator_name, n.nspname AS operator_schema
		FROM pg_catalog.pg_index i
		JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
		JOIN pg_catalog.pg_am am ON am.oid = ic.relam
		JOIN pg_catalog.pg_opclass oc ON oc.oid = i.indclass[0]
		JOIN pg_catalog.pg_amop ao ON ao.amopfamily = oc.opcfamily AND ao.amoppurpose = 'o'
		JOIN pg_catalog.pg_operator o ON o.oid = ao.amopopr
		JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
		WHERE i.indrelid = tbl AND i.indnkeyatts = 1 AND i.indkey[0] = col_attnum
			AND i.indisvalid AND i.indisready AND i.indpred IS NULL AND i.indexprs IS NULL
		ORDER BY ic.relname
	LOOP
		IF NOT candidate.operator_name = ANY (indexed_operators) THEN
			indexed_operators := indexed_operators || candidate.operator_name;
		END IF;
		CONTINUE WHEN op IS NOT NULL AND candidate.operator_name <> op;
		IF NOT candidate.operator_name = ANY (matching_operators) THEN
			matching_operators := matching_operators || candidate.operator_name;
		END IF;
		matching_indexes := matching_indexes || candidate.index_oid::regclass::text;
		chosen := candidate;
	END LOOP;

	IF cardinality(matching_indexes) = 0 THEN
		IF op IS NOT NULL AND cardinality(indexed_operators) > 0 THEN
			RAISE EXCEPTION 'no index on %(%) orders by operator %', tbl, col, op
				USING ERRCODE = 'undefined_object',
					HINT = 'Indexed operators: ' || array_to_string(indexed_operators, ', ') || '.';
		END IF;
		RAISE EXCEPTION 'no index on %(%) orders by a distance operator', tbl, col
			USING ERRCODE = 'undefined_object',
				HINT = format('Create one, e.g. CREATE INDEX ON %s USING hnsw (%I vector_l2_ops).', tbl, col);
	END IF;
	IF cardinality(matching_operators) > 1 THEN
		RAISE EXCEPTION 'indexes on %(%) order by several operators: %', tbl, col,
			array_to_string(matching_operators, ', ')
			USING ERRCODE = 'invalid_parameter_value',
				HINT = format('Choose one, e.g. op => %L.', matching_operators[1]);
	END IF;
	-- The planner picks among several indexes for one operator; which one it measured
	-- would be a guess.
	IF cardinality(matching_indexes) > 1 THEN
		RAISE EXCEPTION 'more than one index on %(%) orders by %: %', tbl, col,
			matching_operators[1], array_to_string(matching_indexes, ', ')
			USING ERRCODE = 'object_not_in_prerequisite_state',
				HINT = 'Measure on a table with one of them.';
	END IF;

	index_name := chosen.index_oid::regclass;
	distance_operator := chosen.operator_name;
	SELECT string_agg(s.name || '=' || s.setting, ', ' ORDER BY s.name) INTO search_settings
	FROM pg_catalog.pg_settings s WHERE s.name LIKE chosen.am_name || '.%';

	-- Schema-qualified, so the user's search_path cannot swap in another operator.
	operator_sql := format('OPERATOR(%I.%s)', chosen.operator_schema, chosen.operator_name);
	index_sql := format('SELECT count(DISTINCT ctid) FILTER (WHERE d <= $2), count(*) FROM '
		'(SELECT ctid, %1$I %2$s $1 AS d FROM %3$s ORDER BY %1$I %2$s $1 LIMIT %4$s) s',
		col, operator_sql, tbl, k);
	-- The filter drops rows that are nobody's neighbours but would sort last among the
	-- exact answers of a table with few rows: NULLs, and rows at NaN distance (zero vectors
	-- under cosine distance, which an index does not return either).
	exact_sql := format('SELECT max(d), count(*) FROM '
		'(SELECT %1$I %2$s $1 AS d FROM %3$s WHERE (%1$I %2$s $1) <> ''NaN''::float8 '
		'ORDER BY %1$I %2$s $1 LIMIT %4$s) s',
		col, operator_sql, tbl, k);
	-- A vector whose distance to itself is NaN (a zero vector under cosine distance) has no
	-- meaningful neighbours, so it is not sampled.
	sample_sql := format('SELECT %1$I AS v FROM %2$s WHERE %1$I IS NOT NULL '
		'AND (%1$I %3$s %1$I) <> ''NaN''::float8 ORDER BY random() LIMIT %4$s',
		col, tbl, operator_sql, sample_size);

	queries := 0;
	short_queries := 0;
	min_recall := 1;
	FOR sample IN EXECUTE sample_sql LOOP
		IF queries = 0 THEN
			-- Both paths are planned once with the first sample and checked: the index
			-- path must scan the chosen index, the exact path no index at all.
			PERFORM set_config('enable_seqscan', 'off', true);
			EXECUTE 'EXPLAIN (FORMAT JSON) ' || index_sql INTO plan USING sample.v, 0::float8;
			IF NOT jsonb_path_exists(plan, '$.** ? (@."Index Name" == $name)',
					jsonb_build_object('name', chosen.index_relname)) THEN
				RAISE EXCEPTION 'the planner does not use index % for ORDER BY % %', index_name, col, distance_operator
					USING ERRCODE = 'object_not_in_prerequisite_state',
						DETAIL = 'Plan: ' || plan::text;
			END IF;
			PERFORM set_config('enable_seqscan', 'on', true);
			PERFORM set_config('enable_indexscan', 'off', true);
			PERFORM set_config('enable_indexonlyscan', 'off', true);
			PERFORM set_config('enable_bitmapscan', 'off', true);
			EXECUTE 'EXPLAIN (FORMAT JSON) ' || exact_sql INTO plan USING sample.v;
			IF jsonb_path_exists(plan, '$.**."Index Name"') THEN
				RAISE EXCEPTION 'the exact scan of %(%) still reads an index', tbl, col
					USING ERRCODE = 'object_not_in_prerequisite_state',
						DETAIL = 'Plan: ' || plan::text;
			END IF;
		END IF;

		PERFORM set_config('enable_seqscan', 'on', true);
		PERFORM set_config('enable_indexscan', 'off', true);
		PERFORM set_config('enable_indexonlyscan', 'off', true);
		PERFORM set_config('enable_bitmapscan', 'off', true);
		started := clock_timestamp();
		EXECUTE exact_sql INTO kth_distance, exact_count USING sample.v;
		exact_total := exact_total + (clock_timestamp() - started);

		PERFORM set_config('enable_seqscan', 'off', true);
		PERFORM set_config('enable_indexscan', 'on', true);
		started := clock_timestamp();
		EXECUTE index_sql INTO index_hits, index_count USING sample.v, kth_distance;
		index_total := index_total + (clock_timestamp() - started);

		query_recall := least(index_hits, exact_count)::double precision / exact_count;
		recall_sum := recall_sum + query_recall;
		min_recall := least(min_recall, query_recall);
		IF index_count < exact_count THEN
			short_queries := short_queries + 1;
		END IF;
		queries := queries + 1;
	END LOOP;

	IF queries = 0 THEN
		RAISE EXCEPTION 'no vector in %(%) to sample', tbl, col
			USING ERRCODE = 'object_not_in_prerequisite_state',
				HINT = 'The column holds only NULLs (or vectors without a distance to themselves), or the table is empty.';
	END IF;
	recall := recall_sum / queries;
	index_ms := extract(epoch FROM index_total) * 1000 / queries;
	exact_ms := extract(epoch FROM exact_total) * 1000 / queries;
	RETURN NEXT;
END
$$;

COMMENT ON FUNCTION ann_recall(regclass, name, integer, integer, text) IS
	'recall@k of the index on tbl(col) under the session''s search settings, from sample_size stored vectors used as queries';
