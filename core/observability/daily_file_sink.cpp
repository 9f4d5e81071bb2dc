#include "core/observability/daily_file_sink.hpp"

#include <spdlog/details/log_msg.h>
#include <spdlog/sinks/base_sink.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace portico::observability {
namespace {

std::chrono::sys_days utc_day(std::chrono::system_clock::time_point t) {
  return std::chrono::floor<std::chrono::days>(t);
}

class DailyFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  DailyFileSink(std::filesystem::path dir, std::string prefix, std::string extension)
      : file_(std::move(dir), std::move(prefix), std::move(extension)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    file_.write(utc_day(msg.time), std::string_view(formatted.data(), formatted.size()));
  }
  void flush_() override { file_.flush(); }

 private:
  DailyFile file_;  // base_sink's mutex serialises it
};

}  // namespace

DailyFile::DailyFile(std::filesystem::path dir, std::string prefix, std::string extension)
    : dir_(std::move(dir)), prefix_(std::move(prefix)), extension_(std::move(extension)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw std::runtime_error("cannot create " + dir_.string() + ": " + ec.message());
  open(utc_day(std::chrono::system_clock::now()));
}

DailyFile::~DailyFile() {
  close();
}

void DailyFile::write(std::chrono::sys_days day, std::string_view bytes) {
  if (!file_ || day != day_) open(day);
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
    throw std::runtime_error("cannot write " + path_.string() + ": " + std::strerror(errno));
  }
}

void DailyFile::flush() {
  if (file_) std::fflush(file_);
}

void DailyFile::open(std::chrono::sys_days day) {
  close();
  day_ = day;
  path_ = dir_ / daily_file_name(prefix_, extension_, day);
  file_ = std::fopen(path_.c_str(), "ab");
  if (!file_) {
    throw std::runtime_error("cannot open " + path_.string() + ": " + std::strerror(errno));
  }
}

void DailyFile::close() {
  if (file_) std::fclose(file_);
  file_ = nullptr;
}

std::string daily_file_name(const std::string& prefix, const std::string& extension,
                            std::chrono::system_clock::time_point day) {
  std::chrono::year_month_day ymd{utc_day(day)};
  char date[16];
  std::snprintf(date, sizeof date, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return prefix + "-" + date + extension;
}

std::shared_ptr<spdlog::sinks::sink> make_daily_file_sink(const std::filesystem::path& dir,
                                                          std::string prefix,
                                                          std::string extension) {
  return std::make_shared<DailyFileSink>(dir, std::move(prefix), std::move(extension));
}

}  // namespace portico::observability
