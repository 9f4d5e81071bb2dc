  /* c */ rollback -- to nothing
; ROLLBACK TO SAVEPOINT a; COMMIT; begin