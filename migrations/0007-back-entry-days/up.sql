-- Days opened after their date to type in a paper register (back-entry): when and by whom.
-- NULL for a day run live at the desk, which is every day a store held before this.
ALTER TABLE days ADD COLUMN back_entry_at INTEGER;
ALTER TABLE days ADD COLUMN back_entry_by BLOB;
