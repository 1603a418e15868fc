import Testing
@Test func placeholderLessonKitTests() {}
