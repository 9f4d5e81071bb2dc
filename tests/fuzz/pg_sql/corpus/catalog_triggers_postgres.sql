
CREATE FUNCTION stock_bumps_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN
    UPDATE products SET stock_version = stock_version + 1 WHERE id = NEW.product_id;
  END IF;
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.product_id <> NEW.product_id) THEN
    UPDATE products SET stock_version = stock_version + 1 WHERE id = OLD.product_id;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER stock_bumps_version AFTER INSERT OR UPDATE OR DELETE ON stock
FOR EACH ROW EXECUTE FUNCTION stock_bumps_version();
