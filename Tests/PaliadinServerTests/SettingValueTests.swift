import PaliadinServer
import Testing

@Suite("Setting values from flags and environment")
struct SettingValueTests {
    @Test("durations: units, plain seconds, and clear refusals instead of crashes")
    func durations() {
        #expect(SettingValue.duration("250ms") == .milliseconds(250))
        #expect(SettingValue.duration("90s") == .seconds(90))
        #expect(SettingValue.duration("90") == .seconds(90))
        #expect(SettingValue.duration("30m") == .seconds(1800))
        #expect(SettingValue.duration("12min") == .seconds(720))
        #expect(SettingValue.duration("1.5h") == .seconds(5400))
        for bad in ["", "abc", "-5s", "1e300s", "inf", "nan", "5 parsecs"] {
            #expect(SettingValue.duration(bad) == nil, "\(bad)")
        }
    }

    @Test("listen addresses, booleans, lists")
    func others() {
        #expect(SettingValue.listenAddress("127.0.0.1:8080")! == ("127.0.0.1", 8080))
        #expect(SettingValue.listenAddress("[::1]:9000")! == ("::1", 9000))
        #expect(SettingValue.listenAddress(":80")! == ("0.0.0.0", 80))
        #expect(SettingValue.listenAddress("localhost") == nil)
        #expect(SettingValue.listenAddress("h:99999") == nil)
        #expect(SettingValue.bool("Yes") == true)
        #expect(SettingValue.bool("off") == false)
        #expect(SettingValue.bool("maybe") == nil)
        #expect(SettingValue.list(" a@x, ,b@y ") == ["a@x", "b@y"])
    }

    @Test("embed origins: scheme://host[:port] normalised; * and anything else that could widen a CSP is refused")
    func origins() {
        #expect(SettingValue.origin("https://App.Example.com") == "https://app.example.com")
        #expect(SettingValue.origin("http://127.0.0.1:9000/") == "http://127.0.0.1:9000")
        for bad in ["*", "", "app.example.com", "ftp://x.org", "https://x.org/path", "https://x.org?q=1", "https://a b.org",
            "https://x.org; script-src *", "https://u:p@x.org", "javascript:alert(1)"]
        {
            #expect(SettingValue.origin(bad) == nil, "\(bad)")
        }
    }

    @Test("header names: tokens only, so a setting cannot smuggle a second header or a value")
    func headerNames() {
        for good in ["X-Forwarded-User", "Remote-User", "x_user.1"] { #expect(SettingValue.headerName(good), "\(good)") }
        for bad in ["", "X User", "X-User:", "X-User\r\nSet-Cookie", "Ünïcode"] { #expect(!SettingValue.headerName(bad), "\(bad)") }
    }
}
