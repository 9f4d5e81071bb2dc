// A Database that passes every call to a real one and counts the statements it was asked to
// read with: shows whether a poller asked the database anything at all.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "portico/database.hpp"

namespace portico::test {

class CountingDatabase final : public Database {
 public:
  explicit CountingDatabase(std::shared_ptr<Database> real) : real_(std::move(real)) {}

  Rows query(std::string_view sql, const Params& params) override {
    ++queries;
    return real_->query(sql, params);
  }
  std::int64_t execute(std::string_view sql, const Params& params) override {
    return real_->execute(sql, params);
  }
  void execute_script(std::string_view sql) override { real_->execute_script(sql); }
  void transaction(const std::function<void(Session&)>& body) override { real_->transaction(body); }
  std::string backend_name() const override { return real_->backend_name(); }
  std::uint64_t write_generation() const override { return real_->write_generation(); }
  std::string write_failure() const override { return real_->write_failure(); }

  std::atomic<int> queries{0};  // query() calls outside transactions

 private:
  std::shared_ptr<Database> real_;
};

}  // namespace portico::test
