"""yoyo post-apply step, run after every `debugloop db migrate`: reload functions/ and
triggers/ in one transaction (a no-op when neither they nor the schema changed)."""

from yoyo import step

from debugloop.migrate import post_apply

steps = [step(post_apply)]
