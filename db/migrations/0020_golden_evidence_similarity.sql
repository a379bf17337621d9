-- 0020 golden-state evidence that means something (issue 16): a success at another
-- problem counts towards automatic approval only above a similarity that a
-- paraphrase reaches and an unrelated request does not, weighted by that
-- similarity. bench/similarity.py measures both distributions of util_embed on the
-- STF corpora (requests against their functions' docstrings, and against unrelated
-- ones): unrelated pairs p99 0.269, p99.9 0.365, max 0.436; so the floor is 0.45,
-- above every unrelated pair measured (the hashed embedding's collisions, 0.3-0.44,
-- no longer count).

insert into debugloop.settings (key, value, value_type, overridable, min_value, max_value, description) values
    ('golden_evidence_min_similarity', '0.45', 'numeric', false, 0, 1,
     'A success at another problem is evidence for automatic approval only when that problem''s similarity reaches this (bench/similarity.py: above every unrelated pair measured); it weighs its similarity.');

update debugloop.settings
   set description = 'The evidence automatic approval needs: other peers (database roles) that succeeded in chains of their own, each weighing the similarity of its most similar such problem (1 for the same request, 0 below golden_evidence_min_similarity), summed.'
 where key = 'golden_auto_approve_min_successes';
