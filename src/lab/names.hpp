// The lab's names file: one e-mail address a line over the planned domains
// (each domain's share of names as planned, so some domains have many, as
// mailing lists do), shuffled by the seed, with the planned junk lines (text
// that holds no address) mixed in and a few domains written in upper case.
#pragma once

#include <string>
#include <vector>

#include "common/expected.hpp"
#include "lab/plan.hpp"

namespace relayscope::lab {

// Every line, in file order. Pure.
std::vector<std::string> names_lines(const LabPlan& plan);

// Writes the lines to `path` (through a temporary file and a rename, so a
// reader never sees half a file).
Status write_names_file(const LabPlan& plan, const std::string& path);

// Writes `text` to `path` atomically (temporary file + rename).
Status write_file_atomically(const std::string& path, const std::string& text);

}  // namespace relayscope::lab
