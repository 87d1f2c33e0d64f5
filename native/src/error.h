// error.h — how preconditions fail: an lmt::Error carrying a status and a message, thrown inside
// the core and turned into (status, lmt_last_error()) at the C ABI boundary. Never exit/abort.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

#include "lmtrain.h"

namespace lmt {

class Error : public std::runtime_error {
 public:
  Error(lmt_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  lmt_status status() const { return status_; }

 private:
  lmt_status status_;
};

template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

/** Throws an invalid-argument Error with the concatenated message unless `ok`. */
template <typename... Args>
void require(bool ok, const Args&... message) {
  if (!ok) throw Error(LMT_ERR_INVALID_ARGUMENT, concat(message...));
}

}  // namespace lmt
