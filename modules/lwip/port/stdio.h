/* lwIP includes <stdio.h> for snprintf (overflow-check messages). */
#include <lib/printf.h>
