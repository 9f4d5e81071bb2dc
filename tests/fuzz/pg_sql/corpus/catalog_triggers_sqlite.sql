
CREATE TRIGGER stock_insert_bumps_version AFTER INSERT ON stock BEGIN
  UPDATE products SET stock_version = stock_version + 1 WHERE id = NEW.product_id;
END;
CREATE TRIGGER stock_update_bumps_version AFTER UPDATE ON stock BEGIN
  UPDATE products SET stock_version = stock_version + 1 WHERE id = NEW.product_id;
  UPDATE products SET stock_version = stock_version + 1
    WHERE id = OLD.product_id AND OLD.product_id <> NEW.product_id;
END;
CREATE TRIGGER stock_delete_bumps_version AFTER DELETE ON stock BEGIN
  UPDATE products SET stock_version = stock_version + 1 WHERE id = OLD.product_id;
END;

