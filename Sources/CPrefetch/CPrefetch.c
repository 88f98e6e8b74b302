// Everything is in the header (an inline function); SwiftPM wants one source file per C target.
#include "CPrefetch.h"
