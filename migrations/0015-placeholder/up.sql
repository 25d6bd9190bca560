-- Reserved for the safeguarding branch's migration (ids must be consecutive).
SELECT 1;
