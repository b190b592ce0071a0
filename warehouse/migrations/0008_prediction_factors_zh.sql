-- The factors behind each delay probability in Chinese, beside the English ones in `top_factors`: the same
-- sentences in the same order (models/prediction/factors.py), so the Chinese pages and alerts need not translate.
ALTER TABLE task_predictions ADD COLUMN top_factors_zh VARCHAR[];
