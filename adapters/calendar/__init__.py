"""Working-day calendars (public holidays) behind the feedback context's ``HolidayCalendar`` port."""
