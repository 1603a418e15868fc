// Placeholder module file: replaced by the real library.
enum LessonKitPlaceholder {}
