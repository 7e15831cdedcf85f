// The dialogue files (dialogues/*.dlg) and their golden transcripts, for the
// tests that run them: smtpd's (relay, collector) and the lab's.
// RELAYSCOPE_UPDATE_GOLDEN=1 rewrites the golden files instead of comparing.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace relayscope::smtpd::dialogue_files {

inline std::filesystem::path dir() {
  return std::filesystem::path(RELAYSCOPE_SOURCE_DIR) / "tests/unit/smtpd/dialogues";
}

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::vector<std::filesystem::path> all() {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir())) {
    if (e.path().extension() == ".dlg") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Whether the golden file is updated (RELAYSCOPE_UPDATE_GOLDEN set): the
// transcript was written to it and there is nothing to compare.
inline bool update_golden(const std::filesystem::path& golden, const std::string& transcript) {
  if (!std::getenv("RELAYSCOPE_UPDATE_GOLDEN")) return false;
  std::ofstream(golden, std::ios::binary) << transcript;
  return true;
}

}  // namespace relayscope::smtpd::dialogue_files
