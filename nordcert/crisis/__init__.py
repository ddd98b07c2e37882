"""Crisis coordination: declared crises, members' status per critical service, the situation picture, exercises."""
