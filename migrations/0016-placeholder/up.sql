-- Reserved for the check-ins branch's migration (ids must be consecutive).
SELECT 1;
