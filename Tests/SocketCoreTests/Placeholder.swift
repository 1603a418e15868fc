import Testing
@Test func placeholderSocketCoreTests() {}
