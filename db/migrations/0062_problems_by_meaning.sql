-- 0062 similar problems by meaning (issue 16, items 3 and 4): problems and golden
-- states are compared by util_embed_semantic from now on. Their hashed embeddings
-- (util_embed) are cleared here; debugloop.migrate's post-apply backfill
-- (_stf_semantic_backfill) computes the semantic ones once functions/ is loaded.
update debugloop.debug_problems set embedding = null;
update debugloop.debug_golden_states set embedding = null;

-- The floors, between the two distributions bench/similarity.py measures for
-- util_embed_semantic on the STF corpus (requests against their functions'
-- docstrings, 175 pairs; against unrelated ones, 3,000; bench/RESULTS.md):
--   paraphrases p5 0.329, p50 0.544; unrelated p95 0.370, p99 0.469, p99.9 0.600, max 0.710.
-- A similar problem from 0.4 (paraphrases above: 0.886, unrelated: 0.033; the hashed
-- embedding at its 0.3 kept 0.463 of the paraphrases). Evidence for a golden state
-- from 0.65 (paraphrases above: 0.183, unrelated: 0.0007, 2 of 3,000; the hashed
-- embedding at its 0.45 kept 0.109, unrelated none).
update debugloop.settings set value = '0.4' where key = 'problem_min_similarity';
update debugloop.settings set value = '0.65' where key = 'golden_evidence_min_similarity';
