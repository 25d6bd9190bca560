-- A member's visits were indexed twice, by (member, sign-in time) and by (member, day): every
-- sign-in paid for both, at a random place in each (about 40 bytes a visit, and 60 MB of a
-- 50,000-member store). One index by (member, day, sign-in time) serves every query that asks
-- by member: the latest sign-in that ranks search results and the stretches of presence are
-- read from the index alone, and a member's visits are a few dozen rows, sorted by time after
-- they are read.
DROP INDEX visits_by_member;
DROP INDEX visits_by_member_day;
CREATE INDEX visits_by_member_day ON visits(member_id, day_id, signed_in_at);

-- Every sign-in and sign-out asks which days are open at this hub. The only index by hub read
-- every day the hub ever held (1,500 on a long-lived hub) to find the one or two still open.
CREATE INDEX days_open_by_hub ON days(hub_id, date) WHERE opened_at IS NOT NULL AND closed_at IS NULL;
