/* lwIP includes <string.h>; osvb's freestanding string functions serve it. */
#include <lib/string.h>
