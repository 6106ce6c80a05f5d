"""Operations on normalised documents that several commands share (merging parts)."""
