// One file per UTC day, `<dir>/<prefix>-YYYY-MM-DD<extension>`, named by the date of what is
// written (spdlog's own daily sink rolls over in local time and names files differently). DailyFile
// takes blocks of ready-made lines (the access log writes a batch at a time); the spdlog sink over
// it is used by the audit log and the error log.
#pragma once

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace spdlog::sinks {
class sink;
}

namespace portico::observability {

// Not thread-safe: its owner writes from one thread at a time.
class DailyFile {
 public:
  // Creates `dir` and opens today's file now, so an unwritable directory fails at start-up: throws
  // std::runtime_error naming the file.
  DailyFile(std::filesystem::path dir, std::string prefix, std::string extension);
  ~DailyFile();  // closes the file
  DailyFile(const DailyFile&) = delete;
  DailyFile& operator=(const DailyFile&) = delete;

  // Appends `bytes` as they are to `day`'s file, opening it (and closing the previous one) when the
  // day changes. Throws std::runtime_error naming the file when it cannot.
  void write(std::chrono::sys_days day, std::string_view bytes);
  void flush();  // to the kernel

 private:
  void open(std::chrono::sys_days day);
  void close();

  std::filesystem::path dir_;
  std::string prefix_;
  std::string extension_;
  std::filesystem::path path_;
  std::chrono::sys_days day_{};
  std::FILE* file_ = nullptr;
};

// A DailyFile as an spdlog sink: each message goes to the file of its timestamp's UTC day. Throws
// like DailyFile's constructor.
std::shared_ptr<spdlog::sinks::sink> make_daily_file_sink(const std::filesystem::path& dir,
                                                          std::string prefix,
                                                          std::string extension);

// "access-2026-11-26.jsonl" for prefix "access", extension ".jsonl" and that day.
std::string daily_file_name(const std::string& prefix, const std::string& extension,
                            std::chrono::system_clock::time_point day);

}  // namespace portico::observability
