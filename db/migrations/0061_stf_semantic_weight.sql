-- 0061 STF matching by meaning (issue 16): how much the semantic similarity
-- (util_embed_semantic) weighs against the lexical one (util_embed_sparse) in
-- stf_match's score. Tuned on the tuning part of the project's STF corpus
-- (bench/RESULTS.md), never on HumanEval or the held-out part.
insert into debugloop.settings (key, value, value_type, overridable, min_value, max_value, description) values
    ('stf_semantic_weight', '0.5', 'numeric', false, 0, 1,
     'The weight of the similarity by meaning (util_embed_semantic) in stf_match''s score; the lexical similarity (util_embed_sparse) weighs the rest.');
