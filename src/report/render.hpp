// Renderers: a report model in, a string out, nothing else (no I/O, no
// clock), so each is tested against golden text. Text follows DESIGN.md's
// contract (the IMC's table; several runs as { a, b, c }).
#pragma once

#include <string>
#include <vector>

#include "common/expected.hpp"
#include "report/model.hpp"
#include "store/store.hpp"

namespace relayscope::report {

enum class Format { text, markdown, json, csv, html };

Expected<Format> parse_format(const std::string& name);

struct RenderOptions {
  // `report --ci`: each outcome share with its 95% Wilson interval.
  bool ci = false;
};

// The summary: funnel, outcome table, collector, reasons, variants.
std::string render(const ReportData& data, Format format, const RenderOptions& options = {});
std::string render_text(const ReportData& data, const RenderOptions& options = {});
std::string render_markdown(const ReportData& data, const RenderOptions& options = {});
std::string render_json(const ReportData& data, const RenderOptions& options = {});
std::string render_csv(const ReportData& data, const RenderOptions& options = {});
std::string render_html(const ReportData& data, const RenderOptions& options = {});

// `report --hosts`: one row per probed host. The CSV's first columns are
// domain,ip,outcome,code,reason (contract); code is empty where none came.
std::string render_hosts(const std::vector<store::HostRow>& rows, Format format);

}  // namespace relayscope::report
